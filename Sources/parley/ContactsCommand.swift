import ArgumentParser
import Foundation
import ParleyCore
import ParleyServer
import ParleyStore

struct ContactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts", abstract: "Import and export contacts as CSV.", subcommands: [Import.self, Export.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import contacts from a CSV file with a header row (firstName, lastName, email, phone, language, country, tags, custom field keys)."
        )

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The CSV file") var file: String
        @Option(help: "Workspace id (default: the first workspace)") var workspace: Int64?

        func run() async throws {
            guard let handle = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot open \(file)") }
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            // Pulled a chunk at a time, so a large file is never held in memory whole.
            let chunks = AsyncStream<[UInt8]>(unfolding: {
                guard let data = try? handle.read(upToCount: 256 * 1024), !data.isEmpty else { return nil }
                return [UInt8](data)
            })
            let progress = ProgressBar(total: size)
            let report = try await withServices(database) { services in
                let workspaceId = try await resolveWorkspace(workspace, services: services)
                do {
                    return try await ContactImporter(database: services.database).run(
                        chunks, workspaceId: workspaceId, actorUserId: nil, at: services.clock.now()
                    ) { bytes, report in
                        progress.show(done: bytes, detail: "\(report.created) created, \(report.updated) updated, \(report.rejectedCount) rejected")
                    }
                } catch ImportError.badHeader(let message) {
                    throw ValidationError(message)
                } catch ImportError.empty {
                    throw ValidationError("the file is empty: a header row is required")
                }
            }
            progress.end()
            print("Imported \(file): \(report.created) created, \(report.updated) updated, \(report.rejectedCount) rejected.")
            for rejected in report.rejected {
                print("  line \(rejected.line): \(rejected.reason)")
            }
            if report.rejectedCount > report.rejected.count {
                print("  … and \(report.rejectedCount - report.rejected.count) more")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export every contact of a workspace as CSV.")

        @OptionGroup var database: DatabaseOptions
        @Option(name: .shortAndLong, help: "Write to this file instead of standard output") var output: String?
        @Option(help: "Workspace id (default: the first workspace)") var workspace: Int64?

        func run() async throws {
            let out: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil), let handle = FileHandle(forWritingAtPath: output) else {
                    throw ValidationError("cannot write \(output)")
                }
                out = handle
            } else {
                out = FileHandle.standardOutput
            }
            try await withServices(database) { services in
                let workspaceId = try await resolveWorkspace(workspace, services: services)
                try await ContactExporter(database: services.database).export(workspaceId: workspaceId) { text in out.write(Data(text.utf8)) }
            }
            if output != nil { try out.close() }
        }
    }
}

/// A one-line progress bar on standard error, redrawn in place when it is a terminal.
final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private let interactive = isatty(STDERR_FILENO) != 0
    private let lock = NSLock()

    init(total: Int) {
        self.total = max(total, 1)
    }

    func show(done: Int, detail: String) {
        lock.lock()
        defer { lock.unlock() }
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = "[\(bar)] \(Int(fraction * 100))%  \(detail)"
        FileHandle.standardError.write(Data((interactive ? "\r\(line)" : "\(line)\n").utf8))
    }

    func end() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
