import ArgumentParser
import Foundation
import Logging
import ParleyServer

@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Parley: an omnichannel customer-messaging inbox.",
        version: parleyVersion,
        subcommands: [Serve.self, Migrate.self, UserCommand.self, WorkspaceCommand.self, ContactsCommand.self, Demo.self,
                      Backup.self, Restore.self, Move.self, Secrets.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every command that opens the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB (env PARLEY_DATABASE_URL; default sqlite://./parley.sqlite)")
    var databaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env PARLEY_LOG_LEVEL; default info)")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "text, or json for log shippers: one object per line (env PARLEY_LOG_FORMAT; default text)")
    var logFormat: String?

    var resolvedDatabaseURL: String {
        databaseURL ?? Environment.value("PARLEY_DATABASE_URL") ?? "sqlite://./parley.sqlite"
    }

    func makeLogger(label: String = "parley") throws -> Logger {
        let raw = logLevel ?? Environment.value("PARLEY_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: raw) else {
            throw ValidationError("log level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try LogFormat.bootstrap(logFormat ?? Environment.value("PARLEY_LOG_FORMAT") ?? "text")
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// The variable `name` as a number of seconds, if set; an error naming it if it is not a number.
    static func seconds(_ name: String) throws -> Double? {
        try value(name).map { raw in
            guard let seconds = Double(raw) else { throw ValidationError("\(name) must be a number of seconds") }
            return seconds
        }
    }
}
