import Foundation
import ParleyCore
import SQLKit

/// What an import did.
public struct ImportReport: Codable, Sendable, Equatable {
    public struct Rejected: Codable, Sendable, Equatable {
        public let line: Int
        public let reason: String
    }

    public var created = 0
    public var updated = 0
    public var rejectedCount = 0
    /// The first ``ContactImporter/maxReportedRejections`` rejected rows.
    public var rejected: [Rejected] = []
}

public enum ImportError: Error, Equatable, Sendable {
    case badHeader(String)
    case empty
    /// The body is larger than the import accepts.
    case tooLarge(maxBytes: Int)
}

/// Streams a contact CSV into the store in batched transactions. A contact that matches a row
/// by email (or, without one, by phone) is updated; others are created. A bad row is reported
/// with its line and reason and never stops the good ones.
public struct ContactImporter: Sendable {
    public let database: any Database
    public static let batchSize = 500
    public static let maxReportedRejections = 1000

    public init(database: any Database) {
        self.database = database
    }

    /// Imports from a sequence of byte chunks. `progress` is called after each batch with the
    /// bytes read so far and the report so far.
    public func run<Chunks: AsyncSequence>(
        _ chunks: Chunks, workspaceId: Int64, actorUserId: Int64?, at now: Date, maxBytes: Int? = nil,
        progress: @Sendable (Int, ImportReport) -> Void = { _, _ in }
    ) async throws -> ImportReport where Chunks.Element: Collection<UInt8> {
        let definitions = try await CustomFieldRepository(database: database).list(workspaceId: workspaceId)
        var reader = CSVReader()
        var format: ContactCSV?
        var report = ImportReport()
        var batch: [(line: Int, fields: ContactFields)] = []
        var bytesRead = 0

        func take(_ record: CSVReader.Record) throws {
            guard let format else {
                if let problem = record.problem { throw ImportError.badHeader("the header row is refused: \(problem)") }
                do { format = try ContactCSV(header: record.fields, definitions: definitions) } catch { throw ImportError.badHeader(error.message) }
                return
            }
            if let problem = record.problem {
                reject(&report, line: record.line, reason: problem)
                return
            }
            switch format.fields(from: record.fields.map(CSVReader.fromSpreadsheetSafe)) {
            case .success(let fields): batch.append((record.line, fields))
            case .failure(let failure): reject(&report, line: record.line, reason: "\(failure.field) \(failure.message)")
            }
        }

        for try await chunk in chunks {
            bytesRead += chunk.count
            // Checked before the chunk is read: rows already written stay, the rest is refused.
            if let maxBytes, bytesRead > maxBytes { throw ImportError.tooLarge(maxBytes: maxBytes) }
            for record in reader.feed(chunk) {
                try take(record)
                if batch.count >= Self.batchSize {
                    try await write(batch, workspaceId: workspaceId, actorUserId: actorUserId, at: now, into: &report)
                    batch.removeAll(keepingCapacity: true)
                    progress(bytesRead, report)
                }
            }
        }
        switch reader.finish() {
        case .success(let last): if let last { try take(last) }
        case .failure(.unterminatedQuote(let line)): reject(&report, line: line, reason: "row has a quote that is never closed")
        }
        guard format != nil else { throw ImportError.empty }
        if !batch.isEmpty {
            try await write(batch, workspaceId: workspaceId, actorUserId: actorUserId, at: now, into: &report)
        }
        progress(bytesRead, report)
        return report
    }

    private func reject(_ report: inout ImportReport, line: Int, reason: String) {
        report.rejectedCount += 1
        if report.rejected.count < Self.maxReportedRejections {
            report.rejected.append(.init(line: line, reason: reason))
        }
    }

    private func write(_ batch: [(line: Int, fields: ContactFields)], workspaceId: Int64, actorUserId: Int64?, at now: Date,
                       into report: inout ImportReport) async throws {
        let forUpdate = database.facts.forUpdate
        let counts = try await database.transaction { db -> (created: Int, updated: Int) in
            var created = 0, updated = 0
            for row in batch {
                if let existing = try await Self.match(on: db, workspaceId: workspaceId, fields: row.fields) {
                    _ = try await ContactRepository.apply(on: db, id: existing, workspaceId: workspaceId, fields: row.fields, forUpdate: forUpdate, at: now)
                    try await EventLog.append(on: db, workspaceId: workspaceId, type: .contactUpdated, subjectId: existing, actorUserId: actorUserId,
                                              payload: ["contactId": existing], at: now)
                    updated += 1
                } else {
                    let id = try await ContactRepository.insert(on: db, workspaceId: workspaceId, fields: row.fields, at: now)
                    try await EventLog.append(on: db, workspaceId: workspaceId, type: .contactCreated, subjectId: id, actorUserId: actorUserId,
                                              payload: ["contactId": id], at: now)
                    created += 1
                }
            }
            return (created, updated)
        }
        report.created += counts.created
        report.updated += counts.updated
    }

    /// The contact a row refers to: same email, or, for a row without email, same phone.
    static func match(on db: any SQLDatabase, workspaceId: Int64, fields: ContactFields) async throws -> Int64? {
        if let email = fields.email ?? nil {
            return try await db.raw("""
                SELECT id FROM contacts WHERE workspace_id = \(bind: workspaceId) AND email_lower = \(bind: SearchNormalization.email(email)) ORDER BY id LIMIT 1
                """).first()?.decode(column: "id", as: Int64.self)
        }
        if let phone = fields.phone ?? nil {
            return try await db.raw("""
                SELECT id FROM contacts WHERE workspace_id = \(bind: workspaceId) AND phone_digits = \(bind: SearchNormalization.digits(phone)) ORDER BY id LIMIT 1
                """).first()?.decode(column: "id", as: Int64.self)
        }
        return nil
    }
}
