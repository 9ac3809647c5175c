import Logging
import NIOCore
import SQLKit

/// Keeps every stored string byte for byte. PostgreSQL refuses U+0000 in text and SQLite's
/// driver reads text back as C strings, so a NUL would fail the write on one engine and cut the
/// text short on the other. Strings are escaped on their way in and unescaped on their way out:
/// NUL becomes U+FFFF "0" and U+FFFF itself is doubled. U+FFFF is a Unicode noncharacter that
/// real text practically never holds, so nearly every string passes through unchanged.
public enum StoredText {
    static let escape: Character = "\u{FFFF}"

    public static func encode(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\u{0}" || $0 == "\u{FFFF}" }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\u{0}": out.append(contentsOf: ["\u{FFFF}", "0"])
            case "\u{FFFF}": out.append(contentsOf: ["\u{FFFF}", "\u{FFFF}"])
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    public static func decode(_ stored: String) -> String {
        // U+FFFF is EF BF BF in UTF-8: a byte scan turns away nearly every string sooner than
        // decoding its scalars does.
        guard stored.utf8.contains(0xEF), stored.unicodeScalars.contains("\u{FFFF}") else { return stored }
        var out = String.UnicodeScalarView()
        var escaped = false
        for scalar in stored.unicodeScalars {
            if escaped {
                out.append(scalar == "0" ? "\u{0}" : scalar)
                escaped = false
            } else if scalar == "\u{FFFF}" {
                escaped = true
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}

/// A database handle whose string binds are escaped and whose string results are unescaped
/// (see ``StoredText``). Both backends hand only this to the store's queries.
struct TextSafeDatabase: SQLDatabase {
    let base: any SQLDatabase

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        base.execute(sql: TextSafeExpression(base: query)) { onRow(TextSafeRow(base: $0)) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        try await base.execute(sql: TextSafeExpression(base: query)) { onRow(TextSafeRow(base: $0)) }
    }
}

/// Serialises a query as written, then escapes the strings among its binds.
struct TextSafeExpression: SQLExpression {
    let base: any SQLExpression

    func serialize(to serializer: inout SQLSerializer) {
        let first = serializer.binds.count
        base.serialize(to: &serializer)
        for index in first..<serializer.binds.count {
            if let text = serializer.binds[index] as? String {
                serializer.binds[index] = StoredText.encode(text)
            }
        }
    }
}

struct TextSafeRow: SQLRow {
    let base: any SQLRow

    var allColumns: [String] { base.allColumns }
    func contains(column: String) -> Bool { base.contains(column: column) }
    func decodeNil(column: String) throws -> Bool { try base.decodeNil(column: column) }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        let value = try base.decode(column: column, as: D.self)
        // Only text is escaped. The casts are to the type just compared equal (see ColumnTypes).
        switch ObjectIdentifier(D.self) {
        case ColumnTypes.string:
            return unsafeBitCast(StoredText.decode(unsafeBitCast(value, to: String.self)), to: D.self)
        case ColumnTypes.optionalString:
            return unsafeBitCast(unsafeBitCast(value, to: String?.self).map(StoredText.decode), to: D.self)
        default:
            return value
        }
    }
}
