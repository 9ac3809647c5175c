import NIOCore
@testable import ParleyStore
import SQLiteKit
import SQLiteNIO
import Testing

/// The store reads its common column types from SQLite's values directly (see `ColumnTypes`);
/// whatever it reads that way must be what SQLiteKit's decoder reads, and the rest is left to it.
@Suite("SQLite columns read directly")
struct ColumnTypesTests {
    static let values: [SQLiteData] = [
        .integer(42), .integer(-1), .integer(Int.max), .float(2.5), .text("x"), .text("42"), .text(""),
        .blob(ByteBuffer(bytes: [1, 2])), .null,
    ]

    @Test func directReadsAgreeWithTheDecoder() throws {
        var direct = 0
        for value in Self.values {
            direct += try agree(value, as: Int64.self) + agree(value, as: Int64?.self)
            direct += try agree(value, as: String.self) + agree(value, as: String?.self)
        }
        // Integers and text for each type, and NULL for each optional.
        #expect(direct == 3 * 2 + 3 * 2 + 2)
    }

    @Test func otherTypesAndConversionsAreLeftToTheDecoder() {
        #expect(!readDirectly(.integer(1), as: Bool.self))
        #expect(!readDirectly(.integer(1), as: Int.self))
        #expect(!readDirectly(.integer(7), as: String.self), "the decoder turns numbers into text")
        #expect(!readDirectly(.text("7"), as: Int64.self), "the decoder refuses text for numbers")
        #expect(!readDirectly(.null, as: String.self), "the decoder refuses NULL for a value")
    }

    /// 1 when `value` was read directly as `D`, after checking it against the decoder.
    private func agree<D: Decodable & Equatable>(_ value: SQLiteData, as type: D.Type) throws -> Int {
        guard readDirectly(value, as: D.self) else { return 0 }
        let direct = ColumnTypes.read(value, as: D.self) { preconditionFailure("read directly") }
        #expect(try SQLiteDataDecoder().decode(D.self, from: value) == direct, "\(value) as \(D.self)")
        return 1
    }

    private func readDirectly<D>(_ value: SQLiteData, as type: D.Type) -> Bool {
        if case .decoder = ColumnTypes.direct(value, as: ObjectIdentifier(D.self)) { return false }
        return true
    }
}
