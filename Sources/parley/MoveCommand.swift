import ArgumentParser
import Foundation
import Logging
import ParleyStore

/// `parley move`: carries an embedded installation over to PostgreSQL.
struct Move: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a whole installation from SQLite into an empty PostgreSQL database, then verify it.",
        discussion: """
            Stop parley serve first (or move from a backup): rows written to the source after the move \
            began are not carried over. The target is migrated, must be empty, and is written in one \
            transaction: a move that fails leaves it empty. Every table is then counted and checksummed \
            on both sides.
            """)

    @Option(help: "The installation to copy: sqlite://PATH")
    var from: String

    @Option(help: "An empty PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DB")
    var to: String

    @Option(name: .customLong("log-level"), help: "trace … critical (default warning, so the progress bar stays readable)")
    var logLevel: String = "warning"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown log level \(logLevel)") }
        var logger = Logger(label: "parley")
        logger.logLevel = level
        guard SQLitePath.from(url: from) != nil else { throw ValidationError("--from must be a sqlite:// URL") }
        guard to.hasPrefix("postgres://") || to.hasPrefix("postgresql://") else { throw ValidationError("--to must be a postgres:// URL") }
        guard let path = SQLitePath.from(url: from), FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no database at \(from)")
        }
        let source = try await DatabaseFactory.open(url: from, logger: logger)
        let target: any Database
        do {
            target = try await DatabaseFactory.open(url: to, logger: logger)
        } catch {
            await source.shutdown()
            throw error
        }
        do {
            try await move(source: source, target: target, logger: logger)
        } catch {
            await source.shutdown()
            await target.shutdown()
            if let failure = error as? InstallationCopyError { throw ValidationError(failure.description) }
            throw ValidationError("the move failed: \(loggableDescription(of: error))")
        }
        await source.shutdown()
        await target.shutdown()
    }

    private func move(source: any Database, target: any Database, logger: Logger) async throws {
        let applied = try await Migrator(database: target, logger: logger).migrate()
        if !applied.isEmpty { print("Migrated the target (\(applied.count) migrations).") }
        let copy = try InstallationCopy(source: source, target: target)
        let plans = try await copy.plan()
        let counts = try await copy.sourceCounts(plans)
        let bar = MoveProgress(total: counts.values.reduce(0, +))
        let started = ContinuousClock.now
        let copied = try await copy.copy(plans) { bar.update($0) }
        bar.finish()
        let elapsed = ContinuousClock.now - started
        print("Copied \(copied.values.reduce(0, +)) rows in \(plans.count) tables in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))). Verifying…")
        let checks = try await copy.verify(plans)
        let width = max(5, plans.map(\.name.count).max() ?? 0)
        print("\("table".padding(toLength: width, withPad: " ", startingAt: 0))  \("rows".leftPadded(10))  checksum")
        for check in checks {
            let mark = check.matches ? check.sourceChecksum : "MISMATCH source \(check.sourceRows) rows \(check.sourceChecksum), target \(check.targetRows) rows \(check.targetChecksum)"
            print("\(check.table.padding(toLength: width, withPad: " ", startingAt: 0))  \(String(check.targetRows).leftPadded(10))  \(mark)")
        }
        let failed = checks.filter { !$0.matches }.map(\.table)
        guard failed.isEmpty else { throw InstallationCopyError.verificationFailed(failed) }
        print("Verified: every table has the same rows on both sides. Start parley serve with --database-url \(redacted(to)).")
    }

    /// The URL without its password, for printing.
    private func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "…"
        return components.string ?? "the PostgreSQL URL"
    }
}

/// Feeds the shared progress bar from the copy, at most once a percent (and at each table's end),
/// so that a log gets a few lines rather than one per batch.
final class MoveProgress: @unchecked Sendable {
    private let bar: ProgressBar
    private let total: Int
    private let lock = NSLock()
    private var doneBefore = 0
    private var table = ""
    private var count = 0
    private var lastShown = -1

    init(total: Int) {
        self.bar = ProgressBar(total: total)
        self.total = max(total, 1)
    }

    func update(_ progress: InstallationCopy.Progress) {
        lock.withLock {
            if progress.table != table {
                doneBefore += count
                table = progress.table
            }
            count = progress.copied
            let done = doneBefore + count
            let percent = done * 100 / total
            guard percent != lastShown || (progress.copied == progress.total && progress.total > 0) else { return }
            lastShown = percent
            bar.show(done: done, detail: "\(done)/\(total) rows  \(table) \(progress.copied)/\(progress.total)")
        }
    }

    func finish() { bar.end() }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
