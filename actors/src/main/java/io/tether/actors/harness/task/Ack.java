package io.tether.actors.harness.task;

import io.tether.persistence.TetherSerializable;

/** The Run's acknowledgement of a settled model call or a reported task. */
public enum Ack implements TetherSerializable { INSTANCE }
