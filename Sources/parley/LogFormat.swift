import ArgumentParser
import Logging
import ParleyServer
import Synchronization

/// `--log-format`: plain lines or JSON objects (``LineLogHandler``).
enum LogFormat {
    private static let done = Mutex(false)

    /// Sets the process's log handler once, before the first logger is made.
    static func bootstrap(_ format: String) throws {
        guard format == "text" || format == "json" else { throw ValidationError("log format must be text or json") }
        // A second bootstrap would trap in swift-log.
        guard done.withLock({ done in defer { done = true }; return !done }) else { return }
        if format == "json" {
            LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: .json) }
        } else {
            LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: .text) }
        }
    }
}
