import Foundation
import ParleyChannels
import Testing

/// One provider example as the fuzzer mutates it: a JSON body's structure (values swapped for
/// other types, extremes, deep nesting; keys removed), a form's fields, or any body's bytes
/// (flips, cuts, insertions, repeats).
struct FuzzInput {
    enum Shape {
        case json(Any)
        case form([(String, String)])
        case text(String)
    }

    let shape: Shape
    let contentType: String

    init(_ fixture: [String: Any]) throws {
        if let xml = fixture["xml"] as? String {
            shape = .text(xml)
            contentType = "text/xml"
        } else if let form = fixture["form"] as? [String: String] {
            shape = .form(form.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            contentType = "application/x-www-form-urlencoded"
        } else {
            shape = .json(try #require(fixture["body"]))
            contentType = "application/json"
        }
    }

    var bytes: [UInt8] {
        switch shape {
        case .json(let object): return Self.serialize(object)
        case .form(let fields): return Array(TwilioSMSAdapter.formEncode(fields).utf8)
        case .text(let text): return Array(text.utf8)
        }
    }

    /// A mutated body: a structural change, a byte-level change, or both.
    func mutated(using random: inout FuzzRandom) -> [UInt8] {
        var bytes: [UInt8]
        switch (shape, random.next() % 3) {
        case (.json(let object), let choice) where choice != 2:
            var copy = object
            for _ in 0...(random.next() % 3) { copy = Self.mutateJSON(copy, using: &random, depth: 0) }
            bytes = Self.serialize(copy)
        case (.form(var fields), let choice) where choice != 2:
            Self.mutateForm(&fields, using: &random)
            bytes = Array(TwilioSMSAdapter.formEncode(fields).utf8)
        default:
            bytes = self.bytes
        }
        if random.next() % 2 == 0 { Self.mutateBytes(&bytes, using: &random) }
        return bytes
    }

    static func serialize(_ object: Any) -> [UInt8] {
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed]) else {
            return Array("\(object)".utf8)
        }
        return Array(data)
    }

    /// Values that have broken parsers before: wrong types, extremes, empties, long and odd text.
    static func replacement(using random: inout FuzzRandom) -> Any {
        switch random.next() % 14 {
        case 0: return NSNull()
        case 1: return ""
        case 2: return String(repeating: "é", count: 20_000)
        case 3: return Int64.max
        case 4: return -1
        case 5: return 1e308
        case 6: return true
        case 7: return [Any]()
        case 8: return [String: Any]()
        case 9: return "\u{0}\u{FEFF}\u{202E}<![CDATA[]]>&#0;%00"
        case 10: return "99999999999999999999999999"
        case 11: return [["nested": [["deeper": [Any]()]]]]
        case 12: return "2026-13-45T99:99:99Z"
        default: return Int(random.next() % 1_000_000)
        }
    }

    static func mutateJSON(_ value: Any, using random: inout FuzzRandom, depth: Int) -> Any {
        // At some depth, or by chance, this node is the one replaced.
        if depth > 8 || random.next() % 4 == 0 { return replacement(using: &random) }
        if var object = value as? [String: Any], !object.isEmpty {
            let keys = object.keys.sorted()
            let key = keys[Int(random.next() % UInt64(keys.count))]
            if random.next() % 5 == 0 {
                object.removeValue(forKey: key)
            } else {
                object[key] = mutateJSON(object[key] as Any, using: &random, depth: depth + 1)
            }
            return object
        }
        if var array = value as? [Any], !array.isEmpty {
            let index = Int(random.next() % UInt64(array.count))
            switch random.next() % 4 {
            case 0: array.remove(at: index)
            case 1: array.append(contentsOf: Array(repeating: array[index], count: 50))
            default: array[index] = mutateJSON(array[index], using: &random, depth: depth + 1)
            }
            return array
        }
        return replacement(using: &random)
    }

    static func mutateForm(_ fields: inout [(String, String)], using random: inout FuzzRandom) {
        guard !fields.isEmpty else { return }
        let index = Int(random.next() % UInt64(fields.count))
        switch random.next() % 4 {
        case 0: fields.remove(at: index)
        case 1: fields.append((fields[index].0, "second \(fields[index].1)"))
        default:
            let values = ["", "%", "%zz", String(repeating: "9", count: 5_000), "\u{0}", "-1", "NaN", "+", "https://\u{202E}"]
            fields[index].1 = values[Int(random.next() % UInt64(values.count))]
        }
    }

    static func mutateBytes(_ bytes: inout [UInt8], using random: inout FuzzRandom) {
        let interesting: [UInt8] = [0x00, 0xFF, 0xC3, 0x80, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x3C, 0x3E, 0x26, 0x25, 0x0A, 0x0D, 0x2C]
        for _ in 0...(random.next() % 4) {
            let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count + 1))
            switch random.next() % 6 {
            case 0 where position < bytes.count: bytes[position] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            case 1: bytes.removeSubrange(position...)
            case 2: bytes.insert(interesting[Int(random.next() % UInt64(interesting.count))], at: position)
            case 3 where position < bytes.count:
                let end = min(bytes.count, position + 1 + Int(random.next() % 40))
                bytes.removeSubrange(position..<end)
            case 4 where position < bytes.count:
                let end = min(bytes.count, position + 1 + Int(random.next() % 40))
                let slice = Array(bytes[position..<end])
                for _ in 0..<(1 + random.next() % 20) { bytes.insert(contentsOf: slice, at: position) }
            default:
                bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
            }
        }
    }
}
