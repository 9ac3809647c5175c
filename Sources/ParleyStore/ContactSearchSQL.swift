import ParleyCore
import SQLKit

/// The SQL that finds contacts matching a search-bar query (SPEC §2), per engine: a subquery
/// of matching contact ids built as a union of parts, so each part is answered by its own index.
enum ContactSearchSQL {
    /// `forMembership`: the caller only asks whether an id is among them (`IN`), so the parts
    /// are joined with UNION ALL. A UNION puts every match into a temporary b-tree to drop the
    /// duplicates, which `IN` ignores anyway: 0.5 ms of a 1.7 ms name search matching 1,700 of
    /// a million contacts on SQLite.
    /// `closedOnly`: the caller keeps only contacts whose latest conversation is closed, so on
    /// SQLite names are looked up among theirs alone (migration 16); the other parts find few.
    static func matchingIds(_ query: ContactSearchQuery, workspaceId: Int64, kind: DatabaseKind, forMembership: Bool,
                            closedOnly: Bool = false) -> SQLQueryString {
        var parts: [SQLQueryString] = []
        switch kind {
        case .sqlite:
            // The pieces answer substrings of three characters or more; shorter ones scan.
            if query.name.count >= 3 {
                parts.append(SearchPieces.matching(closedOnly ? .closedName : .name, text: query.name, workspaceId: workspaceId))
                parts.append(SearchPieces.matchingLong(.name, text: query.name, workspaceId: workspaceId))
            } else {
                parts.append("SELECT id FROM contacts WHERE workspace_id = \(bind: workspaceId) AND search_name LIKE \(bind: containing(query.name)) ESCAPE '\\'")
            }
            if let digits = query.phoneDigits {
                // Phone-number identities (WhatsApp, SMS) find their contact too, whatever its own phone field says.
                for field in [SearchPieces.Field.phone, .identityPhone] {
                    parts.append(SearchPieces.matching(field, text: digits, workspaceId: workspaceId))
                    parts.append(SearchPieces.matchingLong(field, text: digits, workspaceId: workspaceId))
                }
            }
        case .postgres:
            parts.append("SELECT id FROM contacts WHERE workspace_id = \(bind: workspaceId) AND search_name LIKE \(bind: containing(query.name)) ESCAPE '\\'")
            if let digits = query.phoneDigits {
                parts.append("SELECT id FROM contacts WHERE workspace_id = \(bind: workspaceId) AND phone_digits LIKE \(bind: "%" + digits + "%")")
                parts.append("SELECT contact_id AS id FROM contact_identities WHERE workspace_id = \(bind: workspaceId) AND phone_digits LIKE \(bind: "%" + digits + "%")")
            }
        }
        parts.append("SELECT id FROM contacts WHERE workspace_id = \(bind: workspaceId) AND email_lower = \(bind: query.exact)")
        parts.append("SELECT contact_id AS id FROM contact_text_values WHERE workspace_id = \(bind: workspaceId) AND value_lower = \(bind: query.exact)")
        let union = forMembership ? "UNION ALL" : "UNION"
        var sql: SQLQueryString = ""
        for (index, part) in parts.enumerated() {
            if index > 0 { sql = "\(sql) \(unsafeRaw: union) \(part)" } else { sql = part }
        }
        return sql
    }

    /// A LIKE pattern matching values that contain `text` literally.
    static func containing(_ text: String) -> String {
        "%" + escapeLike(text) + "%"
    }

    /// Escapes LIKE's wildcards so that user text matches literally.
    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}
