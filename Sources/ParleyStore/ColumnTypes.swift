import SQLiteNIO

/// The column types the store reads most, read straight from the value. SQLiteKit's decoder
/// first asks the runtime whether the type converts itself (a protocol-conformance lookup) and
/// reads optionals through a nested `Decoder`: with that on every value, Swift's runtime took
/// 27% of the benchmark's time reading inbox pages and search results at a million contacts.
/// PostgreSQL's rows (``PostgresSessionRow``) compare the same type identities.
enum ColumnTypes {
    // Kept once: naming an optional's type instantiates its metadata through a cache lookup.
    static let int64 = ObjectIdentifier(Int64.self)
    static let optionalInt64 = ObjectIdentifier(Int64?.self)
    static let string = ObjectIdentifier(String.self)
    static let optionalString = ObjectIdentifier(String?.self)
    static let int = ObjectIdentifier(Int.self)
    static let optionalInt = ObjectIdentifier(Int?.self)
    static let bool = ObjectIdentifier(Bool.self)
    static let optionalBool = ObjectIdentifier(Bool?.self)

    /// A value read directly. Not a generic `D?`: the runtime looks up the metadata of an
    /// optional of a generic type on every call (4% of an inbox page's time).
    enum Direct {
        case int64(Int64)
        case optionalInt64(Int64?)
        case string(String)
        case optionalString(String?)
        /// Another type, or a value the decoder converts or refuses: left to it.
        case decoder
    }

    /// `value` read as the type `type` names, when it is one of these types and the value is
    /// what the decoder reads without converting.
    static func direct(_ value: SQLiteData, as type: ObjectIdentifier) -> Direct {
        switch (type, value) {
        case (int64, .integer(let number)): .int64(Int64(number))
        case (optionalInt64, .integer(let number)): .optionalInt64(Int64(number))
        case (optionalInt64, .null): .optionalInt64(nil)
        case (string, .text(let text)): .string(text)
        case (optionalString, .text(let text)): .optionalString(text)
        case (optionalString, .null): .optionalString(nil)
        default: .decoder
        }
    }

    /// `value` as `D`: read directly when it can be, else by `decode`. Each cast is to the type
    /// `direct` matched `D` with, so it reinterprets nothing.
    static func read<D>(_ value: SQLiteData, as type: D.Type, orElse decode: () throws -> D) rethrows -> D {
        switch direct(value, as: ObjectIdentifier(D.self)) {
        case .int64(let number): unsafeBitCast(number, to: D.self)
        case .optionalInt64(let number): unsafeBitCast(number, to: D.self)
        case .string(let text): unsafeBitCast(text, to: D.self)
        case .optionalString(let text): unsafeBitCast(text, to: D.self)
        case .decoder: try decode()
        }
    }
}
