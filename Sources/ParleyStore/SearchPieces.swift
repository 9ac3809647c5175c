import SQLKit

/// Substring search on SQLite through an ordered index of every position of a value
/// (SPEC §2: partial, case- and accent-insensitive search on names and phone digits).
///
/// Each searchable value is stored as its "pieces": the text from each character on, cut to
/// ``length`` characters. A value contains a query of 3 to ``length`` characters exactly when
/// one of its pieces starts with the query, which a range of the `search_pieces` primary key
/// answers: the search reads the matching contacts and nothing else, however common the
/// query's letters are. (FTS5's trigram index read the whole posting list of each of the
/// query's trigrams, so a name search cost what its commonest trigram cost.) Longer queries
/// range on their first ``length`` characters and check the whole text. PostgreSQL keeps its
/// trigram indexes: there the same table costs more than the search gains (see README).
enum SearchPieces {
    /// Characters per piece: long enough that a query cut to it is still selective.
    static let length = 12
    /// Positions indexed per value. A longer value (no form allows one; a provider's profile
    /// name might) is found by a scan of the few such rows, through a partial index.
    static let positions = 256

    /// Which value a piece comes from; its owner is a contact, or an identity for `.identityPhone`.
    enum Field: Int64 {
        case name = 1
        case phone = 2
        case identityPhone = 3
    }

    /// The key range of the pieces that start with `text`, and whether rows in it must still
    /// be checked against the whole text (queries longer than a piece). Lengths are counted in
    /// Unicode scalars, as SQLite's `substr` and `length` count characters.
    struct Range: Equatable {
        let lower: String
        /// The smallest text above every text that starts with `lower`; nil when none exists.
        let upper: String?
        let needsCheck: Bool
    }

    static func range(for text: String) -> Range {
        let scalars = Array(text.unicodeScalars)
        let lower = String(String.UnicodeScalarView(scalars.prefix(length)))
        return Range(lower: lower, upper: successor(of: lower), needsCheck: scalars.count > length)
    }

    /// `text` with its last character raised by one code point (carrying past U+10FFFF), so that
    /// `piece >= text AND piece < successor` holds exactly for the pieces starting with `text`
    /// under SQLite's binary collation (UTF-8 byte order is code point order).
    static func successor(of text: String) -> String? {
        var scalars = Array(text.unicodeScalars)
        while let last = scalars.popLast() {
            var value = last.value + 1
            if value == 0xD800 { value = 0xE000 }
            if let next = Unicode.Scalar(value) {
                scalars.append(next)
                return String(String.UnicodeScalarView(scalars))
            }
        }
        return nil
    }

    /// The contacts whose `field` contains `text` (3 characters or more).
    static func matching(_ field: Field, text: String, workspaceId: Int64) -> SQLQueryString {
        let range = range(for: text)
        let column = Self.column(field)
        var sql: SQLQueryString
        switch field {
        case .name, .phone:
            // The pieces name the contact; its row is read only to check a long query.
            sql = "SELECT p.owner_id AS id FROM search_pieces p"
            if range.needsCheck { sql = "\(sql) JOIN contacts c ON c.id = p.owner_id" }
        case .identityPhone:
            sql = "SELECT c.contact_id AS id FROM search_pieces p JOIN contact_identities c ON c.id = p.owner_id"
        }
        sql = "\(sql) WHERE p.workspace_id = \(bind: workspaceId) AND p.field = \(bind: field.rawValue) AND p.piece >= \(bind: range.lower)"
        if let upper = range.upper {
            sql = "\(sql) AND p.piece < \(bind: upper)"
        } else {
            sql = "\(sql) AND substr(p.piece, 1, \(unsafeRaw: String(range.lower.unicodeScalars.count))) = \(bind: range.lower)"
        }
        if range.needsCheck {
            sql = "\(sql) AND c.\(unsafeRaw: column) LIKE \(bind: like(text)) ESCAPE '\\'"
        }
        return sql
    }

    /// The contacts whose `field` is longer than the indexed positions and contains `text`:
    /// a partial index holds only such rows, so this costs nothing while there are none.
    static func matchingLong(_ field: Field, text: String, workspaceId: Int64) -> SQLQueryString {
        let (table, id): (String, String) = field == .identityPhone ? ("contact_identities", "contact_id") : ("contacts", "id")
        return """
            SELECT \(unsafeRaw: id) AS id FROM \(unsafeRaw: table) WHERE workspace_id = \(bind: workspaceId)
            AND \(unsafeRaw: longCondition(field)) AND \(unsafeRaw: column(field)) LIKE \(bind: like(text)) ESCAPE '\\'
            """
    }

    /// The partial indexes' condition, written the same in the index and the query so that
    /// SQLite uses the index.
    static func longCondition(_ field: Field) -> String {
        "length(\(column(field))) > \(positions)"
    }

    static func column(_ field: Field) -> String {
        field == .name ? "search_name" : "phone_digits"
    }

    private static func like(_ text: String) -> String {
        "%" + ContactSearchSQL.escapeLike(text) + "%"
    }
}
