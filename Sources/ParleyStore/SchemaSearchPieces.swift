extension Schema {
    // 13 (SQLite): contact search reads a full-text index of pieces (see SearchPieces) instead
    //     of trigrams, which cost what the query's commonest trigram cost: at a million contacts
    //     a partial name search read ~300,000 postings of "ez-" to find ~1,700 contacts. Kept in
    //     step by triggers, like the trigram indexes it replaces.
    static let searchPieces = Migration(version: 13, name: "contact search pieces") { f in
        guard f.kind == .sqlite else { return [] }
        var statements = [
            "CREATE TABLE search_piece_positions (n INTEGER PRIMARY KEY)",
            """
            WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter WHERE n < \(SearchPieces.positions))
            INSERT INTO search_piece_positions (n) SELECT n FROM counter
            """,
            // Contentless: the pieces are derived from the rows, and a delete names them again.
            // The ascii tokenizer keeps each hexadecimal piece as one token.
            """
            CREATE VIRTUAL TABLE contact_pieces USING fts5(
                name, phone, content = '', tokenize = 'ascii', columnsize = 0, detail = column
            )
            """,
            """
            CREATE VIRTUAL TABLE identity_pieces USING fts5(
                phone, content = '', tokenize = 'ascii', columnsize = 0, detail = none
            )
            """,
            "INSERT INTO contact_pieces (rowid, name, phone) SELECT id, \(pieces("search_name")), \(pieces("phone_digits")) FROM contacts",
            "INSERT INTO identity_pieces (rowid, phone) SELECT id, \(pieces("phone_digits")) FROM contact_identities",
        ]
        statements += triggers("contacts_pieces", on: "contacts", columns: ["search_name", "phone_digits"],
                               add: addContact, remove: removeContact)
        statements += triggers("identities_pieces", on: "contact_identities", columns: ["phone_digits"],
                               add: addIdentity, remove: removeIdentity)
        let long: [(SearchPieces.Field, table: String)] = [(.name, "contacts"), (.phone, "contacts"), (.identityPhone, "contact_identities")]
        for (field, table) in long {
            statements.append("CREATE INDEX \(table)_long_\(field.source) ON \(table) (workspace_id) WHERE \(SearchPieces.longCondition(field))")
        }
        // The trigram indexes they replace (migrations 2 and 5).
        for trigger in ["contacts_search_insert", "contacts_search_delete", "contacts_search_update",
                        "identities_phone_insert", "identities_phone_delete", "identities_phone_update"] {
            statements.append("DROP TRIGGER \(trigger)")
        }
        statements += ["DROP TABLE contact_search", "DROP TABLE identity_phone_search"]
        return statements
    }

    /// The triggers that keep a table's pieces in step: added with a row, removed with it, and
    /// replaced when one of `columns` changes (an update that writes the same values leaves them).
    private static func triggers(_ prefix: String, on table: String, columns: [String],
                                 add: (String) -> String, remove: (String) -> String) -> [String] {
        let changed = columns.map { "old.\($0) IS NOT new.\($0)" }.joined(separator: " OR ")
        return [
            "CREATE TRIGGER \(prefix)_insert AFTER INSERT ON \(table) BEGIN \(add("new")); END",
            "CREATE TRIGGER \(prefix)_delete AFTER DELETE ON \(table) BEGIN \(remove("old")); END",
            """
            CREATE TRIGGER \(prefix)_update AFTER UPDATE OF \(columns.joined(separator: ", ")) ON \(table)
            WHEN \(changed) BEGIN
                \(remove("old"));
                \(add("new"));
            END
            """,
        ]
    }

    /// A value's pieces as the full-text column's text: each in hexadecimal, space-separated.
    /// NULL for NULL, and nothing for a value of fewer than three characters.
    static func pieces(_ value: String) -> String {
        """
        (SELECT group_concat(hex(substr(\(value), p.n, \(SearchPieces.length))), ' ') FROM search_piece_positions p
         WHERE p.n <= length(\(value)) - 2)
        """
    }

    private static func addContact(_ row: String) -> String {
        "INSERT INTO contact_pieces (rowid, name, phone) VALUES (\(row).id, \(pieces("\(row).search_name")), \(pieces("\(row).phone_digits")))"
    }

    /// A contentless index forgets a row when given the text it was given.
    private static func removeContact(_ row: String) -> String {
        """
        INSERT INTO contact_pieces (contact_pieces, rowid, name, phone)
        VALUES ('delete', \(row).id, \(pieces("\(row).search_name")), \(pieces("\(row).phone_digits")))
        """
    }

    private static func addIdentity(_ row: String) -> String {
        "INSERT INTO identity_pieces (rowid, phone) VALUES (\(row).id, \(pieces("\(row).phone_digits")))"
    }

    private static func removeIdentity(_ row: String) -> String {
        "INSERT INTO identity_pieces (identity_pieces, rowid, phone) VALUES ('delete', \(row).id, \(pieces("\(row).phone_digits")))"
    }
}
