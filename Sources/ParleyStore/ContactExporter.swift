import Foundation
import ParleyCore

/// Writes every contact of a workspace as CSV (see ``ContactCSV``), a page at a time, so that
/// an export of any size streams in bounded memory.
public struct ContactExporter: Sendable {
    public let database: any Database
    public static let pageSize = 500

    public init(database: any Database) {
        self.database = database
    }

    /// Calls `write` with the header line, then with the lines of each page of contacts.
    public func export(workspaceId: Int64, write: (String) async throws -> Void) async throws {
        let definitions = try await CustomFieldRepository(database: database).list(workspaceId: workspaceId)
        let contacts = ContactRepository(database: database)
        try await write(Self.line(ContactCSV.header(definitions: definitions)))
        var before: Int64?
        while true {
            let page = try await contacts.list(workspaceId: workspaceId, query: nil, beforeId: before, limit: Self.pageSize)
            guard let last = page.last else { break }
            try await write(page.map { Self.line(ContactCSV.row($0, definitions: definitions)) }.joined())
            guard page.count == Self.pageSize else { break }
            before = last.id
        }
    }

    static func line(_ fields: [String]) -> String {
        fields.map { CSVReader.escape(CSVReader.spreadsheetSafe($0)) }.joined(separator: ",") + "\r\n"
    }
}
