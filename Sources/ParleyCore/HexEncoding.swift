/// Lowercase hexadecimal text of bytes: digests, signatures, random tokens.
///
/// Webhook signatures and API token hashes are encoded on every request; formatting each
/// byte with `String(format:)` went through Foundation's locale-aware formatter and cost more
/// than the HMAC itself.
extension Sequence where Element == UInt8 {
    public var hexEncoded: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            bytes.append(hexDigits[Int(byte >> 4)])
            bytes.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)
