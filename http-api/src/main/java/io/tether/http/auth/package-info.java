/**
 * Capability tokens and the guards every route calls before it touches a session.
 *
 * <p>Decisions recorded here (the README's "Authentication" section is the user's version):
 *
 * <ul>
 *   <li><b>Three secrets, three holders.</b> The operator holds the admin secret and only issues
 *       tokens with it ({@link io.tether.http.auth.TokenRoutes}); the nodes hold the signing
 *       key; clients hold one token each, scoped by its grants, expiry and quotas.
 *   <li><b>Headers, not URLs.</b> Tokens travel in {@code Authorization: Bearer}; the query
 *       string only where a browser cannot set a header ({@link io.tether.http.auth.QueryTokens}),
 *       and never the admin secret.
 *   <li><b>Validity.</b> {@code exp} exact, {@code nbf} with {@code tether.auth.clock-skew}
 *       ({@link io.tether.http.auth.CapabilityTokens}).
 *   <li><b>{@code *}</b> is the wildcard of grants, within one segment; {@code **} crosses
 *       segments; ids never contain it ({@link io.tether.http.auth.Grant},
 *       {@link io.tether.http.auth.Principal}).
 *   <li><b>Authorize what is used.</b> Every id is authorized after it is parsed, by the code
 *       that resolves it for the route ({@link io.tether.http.auth.StreamAccess},
 *       {@link io.tether.http.auth.RunAccess}).
 *   <li><b>Quotas</b> where each is cheapest to count correctly: sessions created cluster-wide in
 *       a sharded, journaled entity per token; sockets and the append rate per node, in memory
 *       ({@link io.tether.http.auth.TokenQuotas}).
 * </ul>
 */
package io.tether.http.auth;
