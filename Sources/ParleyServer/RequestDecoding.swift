import Foundation
import Hummingbird

/// Reads JSON request bodies, turning every decoding failure into a 400 that names the field.
enum RequestDecoding {
    static let maxBodySize = 1 << 20

    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodySize)
        } catch {
            throw APIError(.contentTooLarge, code: "body_too_large", message: "request body is larger than \(maxBodySize) bytes")
        }
        guard buffer.readableBytes > 0 else {
            throw APIError.badRequest("request body must be a JSON object")
        }
        do {
            return try JSONDecoder.api.decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw describe(error)
        } catch let error as APIError {
            throw error
        }
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            .joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    static func describe(_ error: DecodingError) -> APIError {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return .badRequest("field '\(field)' is required", field: field)
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return .badRequest("field '\(field)' must not be null", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            if field.isEmpty { return .badRequest("request body must be a JSON object") }
            return .badRequest("field '\(field)' must be \(typeName(type))", field: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty { return .badRequest("request body is not valid JSON") }
            return .badRequest("field '\(field)' has an invalid value: \(context.debugDescription)", field: field)
        @unknown default:
            return .badRequest("request body could not be read")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "of type \(name)"
        }
    }
}

/// A request field holding one of an enumeration's values; decoding names the allowed values
/// when it fails.
struct Choice<Value: RawRepresentable & CaseIterable & Sendable>: Decodable, Sendable where Value.RawValue == String {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Value(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(raw)' is not one of \(Self.allowed)")
        }
        self.value = value
    }

    static var allowed: String { Value.allCases.map(\.rawValue).joined(separator: ", ") }

    /// Parses a query parameter, or throws a 400 naming it and the allowed values.
    static func query(_ raw: String?, name: String, default fallback: Value) throws -> Value {
        guard let raw else { return fallback }
        guard let value = Value(rawValue: raw) else {
            throw APIError.badRequest("query parameter '\(name)' must be one of \(allowed)", field: name)
        }
        return value
    }
}

/// Wraps an encodable value as a JSON response with a chosen status.
struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    let value: Value

    init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONEncoder.api.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}

/// A page of a list: `{"items":[…],"nextCursor":…}`.
struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    let items: [Item]
    let nextCursor: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        // Always present, null on the last page, so clients need not test for the key.
        try container.encode(nextCursor, forKey: .nextCursor)
    }

    enum CodingKeys: String, CodingKey {
        case items, nextCursor
    }
}

extension KeyedDecodingContainer {
    /// A field that may be left out but not sent as null (null would read as "unchanged" and
    /// hide a client's mistake).
    func decodeUnlessNull<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        if try decodeNil(forKey: key) {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [key], debugDescription: "null is not allowed"))
        }
        return try decode(type, forKey: key)
    }
}

extension Page {
    /// A page from `rows` fetched with one extra row (`limit + 1`): the first `limit` rows, and
    /// a cursor after the last of them when more follow.
    init<Row>(rows: [Row], limit: Int, item: (Row) -> Item, cursor: (Row) -> [Int64]) {
        let page = rows.prefix(limit)
        self.init(items: page.map(item), nextCursor: rows.count > limit ? page.last.map { Cursor.encode(cursor($0)) } : nil)
    }
}
