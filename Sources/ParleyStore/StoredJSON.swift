import Foundation

/// A stored JSON value that does not decode. Reading it as empty would let the next update
/// write the emptiness back and make the loss permanent, so the read fails instead, naming
/// the column (the request answers 500 and the log says where to look).
public struct CorruptStoredValue: Error, CustomStringConvertible, Sendable {
    public let column: String
    public let id: Int64?

    public var description: String {
        "the stored value of \(column)\(id.map { " (row \($0))" } ?? "") is not valid JSON of its kind; it was left as it is"
    }
}

enum StoredJSON {
    static func decode<T: Decodable>(_ type: T.Type, from text: String, column: String, id: Int64? = nil) throws -> T {
        do {
            return try JSONDecoder.store.decode(type, from: Data(text.utf8))
        } catch {
            throw CorruptStoredValue(column: column, id: id)
        }
    }
}
