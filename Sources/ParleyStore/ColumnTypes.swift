import SQLiteNIO

/// The column types the store reads most, read straight from the value. SQLiteKit's decoder
/// first asks the runtime whether the type converts itself (a protocol-conformance lookup) and
/// reads optionals through a nested `Decoder`: with that on every value, Swift's runtime took
/// 27% of the benchmark's time reading inbox pages and search results at a million contacts.
enum ColumnTypes {
    // Kept once: naming an optional's type instantiates its metadata through a cache lookup.
    static let int64 = ObjectIdentifier(Int64.self)
    static let optionalInt64 = ObjectIdentifier(Int64?.self)
    static let string = ObjectIdentifier(String.self)
    static let optionalString = ObjectIdentifier(String?.self)

    /// `value` as `D` when `D` is one of these types and the value is what the decoder reads
    /// without converting; nil sends it to the decoder, which converts or throws as it always did.
    static func direct<D>(_ value: SQLiteData, as type: D.Type) -> D? {
        // Each cast below is to the type just compared equal, so it reinterprets nothing.
        switch (ObjectIdentifier(D.self), value) {
        case (int64, .integer(let number)): unsafeBitCast(Int64(number), to: D.self)
        case (optionalInt64, .integer(let number)): unsafeBitCast(Int64?.some(Int64(number)), to: D.self)
        case (optionalInt64, .null): unsafeBitCast(Int64?.none, to: D.self)
        case (string, .text(let text)): unsafeBitCast(text, to: D.self)
        case (optionalString, .text(let text)): unsafeBitCast(String?.some(text), to: D.self)
        case (optionalString, .null): unsafeBitCast(String?.none, to: D.self)
        default: nil
        }
    }
}
