import ParleyCore
import Testing

@Suite("Hex encoding")
struct HexEncodingTests {
    @Test func bytesBecomeTwoLowercaseDigitsEach() {
        #expect([UInt8]().hexEncoded == "")
        #expect([0x00, 0x0f, 0x10, 0xa5, 0xff].hexEncoded == "000f10a5ff")
        // Every byte, as the formatter it replaces would write it.
        let all = (0...255).map { UInt8($0) }
        let digits = Array("0123456789abcdef")
        #expect(all.hexEncoded == String(all.flatMap { [digits[Int($0 / 16)], digits[Int($0 % 16)]] }))
    }
}
