import Foundation
import SQLKit

/// Substring search on SQLite through a full-text index of every position of a value
/// (SPEC §2: partial, case- and accent-insensitive search on names and phone digits).
///
/// Each searchable value is indexed as its "pieces": the text from each character on, cut to
/// ``length`` characters, each written in hexadecimal so that the full-text tokenizer keeps it
/// whole whatever its characters. A value contains a query of 3 to ``length`` characters
/// exactly when one of its pieces starts with the query, which a prefix query answers: it reads
/// the entries of the matching contacts and no others, however common the query's letters are.
/// (The trigram index used before read every contact holding each of the query's trigrams.)
/// Longer queries look up their first ``length`` characters and check the whole text. The
/// index is contentless and written as FTS5 writes, a small segment per transaction merged
/// later, so a new contact costs about as many pages as with the trigram index.
/// PostgreSQL keeps its trigram indexes (see README).
enum SearchPieces {
    /// Characters per piece: long enough that a query cut to it is still selective.
    static let length = 12
    /// Positions indexed per value. A longer value (no form allows one; a provider's profile
    /// name might) is found by a scan of the few such rows, through a partial index.
    static let positions = 256

    /// Which value a piece comes from.
    enum Field {
        /// A contact's folded "first last" (`contacts.search_name`).
        case name
        /// The same, of the contacts whose latest conversation is closed (migration 16).
        case closedName
        /// A contact's phone digits.
        case phone
        /// A phone-number identity's digits (WhatsApp, SMS); its row is the identity's.
        case identityPhone

        /// The full-text table and its column (none for the identities' one-column index,
        /// which keeps no column lists).
        var index: (table: String, column: String?) {
            switch self {
            case .name: ("contact_pieces", "name")
            case .closedName: ("closed_contact_pieces", nil)
            case .phone: ("contact_pieces", "phone")
            case .identityPhone: ("identity_pieces", nil)
            }
        }

        /// The row's column holding the whole value.
        var source: String { self == .name || self == .closedName ? "search_name" : "phone_digits" }
    }

    /// The full-text query for the pieces of `field` that start with `text` (cut to a piece),
    /// and whether matches must still be checked against the whole text. Lengths are counted
    /// in Unicode scalars, as SQLite's `substr` and `length` count characters.
    static func match(_ field: Field, text: String) -> (query: String, needsCheck: Bool) {
        let scalars = Array(text.unicodeScalars)
        let prefix = String(String.UnicodeScalarView(scalars.prefix(length)))
        let hex = prefix.utf8.map { String(format: "%02X", $0) }.joined()
        let column = field.index.column.map { "\($0) : " } ?? ""
        return ("\(column)\"\(hex)\" *", scalars.count > length)
    }

    /// The contacts whose `field` contains `text` (3 characters or more). Contact rows are
    /// not filtered by workspace here: every caller joins them to the workspace's rows.
    static func matching(_ field: Field, text: String, workspaceId: Int64) -> SQLQueryString {
        let (query, needsCheck) = match(field, text: text)
        let table = field.index.table
        var sql: SQLQueryString
        switch field {
        case .name, .closedName, .phone:
            sql = needsCheck
                ? "SELECT c.id FROM \(unsafeRaw: table) s JOIN contacts c ON c.id = s.rowid WHERE \(unsafeRaw: table) MATCH \(bind: query)"
                : "SELECT rowid AS id FROM \(unsafeRaw: table) WHERE \(unsafeRaw: table) MATCH \(bind: query)"
        case .identityPhone:
            sql = """
                SELECT c.contact_id AS id FROM \(unsafeRaw: table) s JOIN contact_identities c ON c.id = s.rowid
                WHERE \(unsafeRaw: table) MATCH \(bind: query) AND c.workspace_id = \(bind: workspaceId)
                """
        }
        if needsCheck {
            sql = "\(sql) AND c.\(unsafeRaw: field.source) LIKE \(bind: ContactSearchSQL.containing(text)) ESCAPE '\\'"
        }
        return sql
    }

    /// The contacts whose `field` is longer than the indexed positions and contains `text`:
    /// a partial index holds only such rows, so this costs nothing while there are none.
    static func matchingLong(_ field: Field, text: String, workspaceId: Int64) -> SQLQueryString {
        let (table, id) = field == .identityPhone ? ("contact_identities", "contact_id") : ("contacts", "id")
        return """
            SELECT \(unsafeRaw: id) AS id FROM \(unsafeRaw: table) WHERE workspace_id = \(bind: workspaceId)
            AND \(unsafeRaw: longCondition(field)) AND \(unsafeRaw: field.source) LIKE \(bind: ContactSearchSQL.containing(text)) ESCAPE '\\'
            """
    }

    /// The partial indexes' condition, written the same in the index and the query so that
    /// SQLite uses the index.
    static func longCondition(_ field: Field) -> String {
        "length(\(field.source)) > \(positions)"
    }
}
