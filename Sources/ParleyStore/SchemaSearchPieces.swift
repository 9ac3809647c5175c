extension Schema {
    // 13 (SQLite): contact search reads an ordered index of pieces (see SearchPieces) instead of
    //     FTS5 trigram indexes, which cost what the query's commonest trigram cost: at a million
    //     contacts a partial name search read ~300,000 postings of "ez-" to find ~1,700 contacts.
    //     The pieces are kept in step by triggers, like the full-text indexes they replace.
    static let searchPieces = Migration(version: 13, name: "contact search pieces") { f in
        guard f.kind == .sqlite else { return [] }
        let fields: [(SearchPieces.Field, table: String)] = [
            (.name, "contacts"), (.phone, "contacts"), (.identityPhone, "contact_identities"),
        ]
        var statements = [
            "CREATE TABLE search_piece_positions (n INTEGER PRIMARY KEY)",
            """
            WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter WHERE n < \(SearchPieces.positions))
            INSERT INTO search_piece_positions (n) SELECT n FROM counter
            """,
            """
            CREATE TABLE search_pieces (
                workspace_id INTEGER NOT NULL,
                field INTEGER NOT NULL,
                piece TEXT NOT NULL,
                owner_id INTEGER NOT NULL,
                PRIMARY KEY (workspace_id, field, piece, owner_id)
            ) WITHOUT ROWID
            """,
        ]
        for (field, table) in fields {
            statements.append("INSERT INTO search_pieces \(pieces(field, of: "r", from: "\(table) r JOIN"))")
            statements.append("CREATE INDEX \(table)_long_\(SearchPieces.column(field)) ON \(table) (workspace_id) WHERE \(SearchPieces.longCondition(field))")
        }
        statements += [
            """
            CREATE TRIGGER contacts_pieces_insert AFTER INSERT ON contacts BEGIN
                INSERT INTO search_pieces \(pieces(.name, of: "new"));
                INSERT INTO search_pieces \(pieces(.phone, of: "new"));
            END
            """,
            """
            CREATE TRIGGER contacts_pieces_delete AFTER DELETE ON contacts BEGIN
                \(removal(.name, of: "old"));
                \(removal(.phone, of: "old"));
            END
            """,
            """
            CREATE TRIGGER identities_pieces_insert AFTER INSERT ON contact_identities BEGIN
                INSERT INTO search_pieces \(pieces(.identityPhone, of: "new"));
            END
            """,
            """
            CREATE TRIGGER identities_pieces_delete AFTER DELETE ON contact_identities BEGIN
                \(removal(.identityPhone, of: "old"));
            END
            """,
            replacement("contacts_name_pieces_update", .name, on: "contacts"),
            replacement("contacts_phone_pieces_update", .phone, on: "contacts"),
            replacement("identities_pieces_update", .identityPhone, on: "contact_identities"),
        ]
        // The trigram indexes they replace (migrations 2 and 5).
        for trigger in ["contacts_search_insert", "contacts_search_delete", "contacts_search_update",
                        "identities_phone_insert", "identities_phone_delete", "identities_phone_update"] {
            statements.append("DROP TRIGGER \(trigger)")
        }
        statements += ["DROP TABLE contact_search", "DROP TABLE identity_phone_search"]
        return statements
    }

    /// The SELECT of a row's pieces for `field`; `row` is `new`, `old`, or an alias that
    /// `source` (ending in JOIN) brings in. DISTINCT: a value may repeat a piece ("anana").
    private static func pieces(_ field: SearchPieces.Field, of row: String, from source: String = "") -> String {
        let column = "\(row).\(SearchPieces.column(field))"
        return """
            SELECT DISTINCT \(row).workspace_id, \(field.rawValue), substr(\(column), p.n, \(SearchPieces.length)), \(row).id
            FROM \(source) search_piece_positions p \(source.isEmpty ? "WHERE" : "ON") p.n <= length(\(column)) - 2
            """
    }

    /// A trigger that replaces a row's pieces when the value changes (an update that writes
    /// the same value leaves them).
    private static func replacement(_ name: String, _ field: SearchPieces.Field, on table: String) -> String {
        let column = SearchPieces.column(field)
        return """
            CREATE TRIGGER \(name) AFTER UPDATE OF \(column) ON \(table) WHEN old.\(column) IS NOT new.\(column) BEGIN
                \(removal(field, of: "old"));
                INSERT INTO search_pieces \(pieces(field, of: "new"));
            END
            """
    }

    private static func removal(_ field: SearchPieces.Field, of row: String) -> String {
        let column = "\(row).\(SearchPieces.column(field))"
        return """
            DELETE FROM search_pieces WHERE workspace_id = \(row).workspace_id AND field = \(field.rawValue) AND owner_id = \(row).id
            AND piece IN (SELECT substr(\(column), p.n, \(SearchPieces.length)) FROM search_piece_positions p WHERE p.n <= length(\(column)) - 2)
            """
    }
}
