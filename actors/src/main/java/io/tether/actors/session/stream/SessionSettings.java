package io.tether.actors.session.stream;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code tether.session} configuration block, read once per entity start. Every key is
 * documented in the actors module's {@code reference.conf}.
 *
 * @param snapshotEvery events between snapshots
 * @param keepSnapshots snapshots kept per stream
 * @param tailMaxBytes payload bytes of recent items kept in memory for catch-up reads
 * @param tailMaxBatches persisted batches kept in memory for catch-up reads
 * @param chunkBytes the largest payload written in one journal event
 * @param maxBufferedBytes payload bytes that may wait for the next group commit
 * @param maxBufferedAppends appends that may wait for the next group commit
 * @param maxReadBytes the most payload one read returns
 * @param readJournalPluginId the Pekko Persistence Query plugin used for reads older than the tail
 * @param purgeOnDelete whether deletion physically removes a stream's events and snapshots
 * @param expiryCheckInterval the longest an alive entity waits before re-checking its own expiry
 */
public record SessionSettings(
    int snapshotEvery,
    int keepSnapshots,
    long tailMaxBytes,
    int tailMaxBatches,
    int chunkBytes,
    long maxBufferedBytes,
    int maxBufferedAppends,
    int maxReadBytes,
    String readJournalPluginId,
    boolean purgeOnDelete,
    Duration expiryCheckInterval) {

  /** Reads {@code tether.session} from the given root configuration. */
  public static SessionSettings fromConfig(Config root) {
    Config c = root.getConfig("tether.session");
    return new SessionSettings(
        c.getInt("snapshot-every"),
        c.getInt("keep-snapshots"),
        c.getBytes("tail-max-bytes"),
        c.getInt("tail-max-batches"),
        c.getBytes("chunk-bytes").intValue(),
        c.getBytes("max-buffered-bytes"),
        c.getInt("max-buffered-appends"),
        c.getBytes("max-read-bytes").intValue(),
        c.getString("read-journal-plugin-id"),
        c.getBoolean("purge-on-delete"),
        c.getDuration("expiry-check-interval"));
  }
}
