/** What the entities' log lines carry for operators: the MDC of an entity's id. */
package io.tether.actors.logging;
