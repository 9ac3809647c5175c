import Foundation
import ParleyStore

/// The hub's inbox counts of one workspace: who waits for the next read, and when it may start.
///
/// Counting scans the workspace's open conversations, so it grows with the inbox: at a million
/// contacts (666,000 open conversations) one count took 3.4 s without its index and 0.15 s with
/// it. Counts are read one at a time per workspace, on a reader the API shares, so a read must
/// never be started per event or per client: every event that changes counts and every client
/// that arrives meanwhile is answered by the next read.
struct CountsState {
    /// After a read, the next for a change waits this many times as long as the read took, so
    /// that counting after changes takes at most a fifth of one reader however large the inbox...
    static let pauseMultiple = 4
    /// ...but never longer than this,
    static let longestPause: Duration = .seconds(10)
    /// ...and never shorter than this, so that clients connecting together (a restart, a
    /// reconnect storm) share reads even when a read is quick.
    static let shortestPause: Duration = .milliseconds(100)

    static func pause(after took: Duration) -> Duration {
        max(shortestPause, min(took * pauseMultiple, longestPause))
    }

    /// After failed reads the next waits twice as long each time: 0.2 s, 0.4 s, … at most ``longestPause``.
    static func pause(afterFailures failures: Int) -> Duration {
        min(shortestPause * (1 << min(failures, 7)), longestPause)
    }

    /// Every client of the workspace needs new counts (an event changed them).
    var broadcastDue = false
    /// Clients that connected and wait for their first counts.
    var waiting: [EventSubscriber] = []
    var reading = false
    var lastRead: (ended: ContinuousClock.Instant, took: Duration)?
    /// Reads that failed in a row (the database busy or unreachable). Their clients and changes
    /// wait for the next read (see ``pause(afterFailures:)``).
    var failedReads = 0

    /// When the next read may start: soon when clients wait for their first counts, later for
    /// a change alone, whose clients already have counts (see ``pause``).
    var nextReadAt: ContinuousClock.Instant? {
        guard let lastRead else { return nil }
        if failedReads > 0 { return lastRead.ended + Self.pause(afterFailures: failedReads) }
        return lastRead.ended + (waiting.isEmpty ? Self.pause(after: lastRead.took) : Self.shortestPause)
    }

    var hasWork: Bool { broadcastDue || !waiting.isEmpty }
}
