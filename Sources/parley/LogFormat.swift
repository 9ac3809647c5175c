import ArgumentParser
import Logging
import ParleyServer
import Synchronization

/// `--log-format`: swift-log's plain lines, or ``JSONLogHandler``'s JSON objects.
enum LogFormat {
    private static let done = Mutex(false)

    /// Sets the process's log handler once, before the first logger is made.
    static func bootstrap(_ format: String) throws {
        switch format {
        case "text":
            return
        case "json":
            // A second bootstrap would trap in swift-log.
            guard done.withLock({ done in defer { done = true }; return !done }) else { return }
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label) }
        default:
            throw ValidationError("log format must be text or json")
        }
    }
}
