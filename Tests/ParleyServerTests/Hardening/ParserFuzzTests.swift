import Foundation
import ParleyChannels
import ParleyCore
@testable import ParleyServer
import Testing

/// Bounded, seeded mutation fuzzing of every parser that reads outside input: each channel
/// adapter's webhook parser (starting from the providers' documented examples in
/// Tests/fixtures/webhooks), the CSV reader and the cursor decoder. A parser may refuse
/// input by throwing; it must never trap. The seeds are fixed, so a failure reproduces.
@Suite("Parser fuzzing")
struct ParserFuzzTests {
    /// Mutated bodies tried per fixture.
    static let iterations = 80

    static let channels: [(directory: String, kind: ChannelKind)] = [
        ("whatsapp", .whatsapp), ("messenger", .messenger), ("instagram", .instagram), ("telegram", .telegram),
        ("line", .line), ("viber", .viber), ("wechat", .wechat), ("sms", .sms),
    ]

    @Test(arguments: channels.map(\.directory))
    func webhookParsersRefuseOrAcceptButNeverTrap(directory: String) throws {
        let kind = try #require(Self.channels.first { $0.directory == directory }?.kind)
        let adapter = try #require(ChannelAdapters.all[kind])
        let channel = ChannelConfig(id: 1, workspaceId: 1, kind: kind, credentials: ["phoneNumberId": "106540352242922"], apiBaseURL: nil,
                                    webhookSecret: "s", webhookURL: "https://parley.example.com/webhooks/1")
        var random = FuzzRandom(seed: UInt64(truncatingIfNeeded: directory.hashValueStable))
        var parsed = 0, refused = 0
        for (_, fixture) in try WebhookFixtureTests.fixtures(directory) {
            let seed = try FuzzInput(fixture)
            for _ in 0..<Self.iterations {
                let body = seed.mutated(using: &random)
                let request = WebhookRequest(method: "POST", url: channel.webhookURL, query: [:], headers: ["content-type": seed.contentType], body: body)
                do {
                    _ = try adapter.parse(request, channel: channel)
                    parsed += 1
                } catch {
                    refused += 1
                }
            }
        }
        // Both outcomes were reached: the mutations neither all break nor all spare the input.
        #expect(parsed > 0 && refused > 0, "\(directory): \(parsed) parsed, \(refused) refused")
    }

    /// Found by the fuzzer: `NumMedia=-1` made the media loop's range invalid and trapped,
    /// killing the server on one signed request.
    @Test func twilioNegativeMediaCountIsNoMedia() throws {
        let adapter = try #require(ChannelAdapters.all[.sms])
        let channel = ChannelConfig(id: 1, workspaceId: 1, kind: .sms, credentials: [:], apiBaseURL: nil, webhookSecret: "s",
                                    webhookURL: "https://parley.example.com/webhooks/1")
        for count in ["-1", "-9223372036854775808", "99999"] {
            let form = TwilioSMSAdapter.formEncode([("MessageSid", "SM1"), ("From", "+15551230000"), ("Body", "hi"), ("NumMedia", count)])
            let events = try adapter.parse(WebhookRequest(method: "POST", url: channel.webhookURL, query: [:], headers: [:], body: Array(form.utf8)),
                                           channel: channel)
            guard case .message(let message)? = events.first else {
                Issue.record("NumMedia=\(count): \(events)")
                continue
            }
            #expect(message.content.text == "hi" || count == "99999", "NumMedia=\(count)")
        }
    }

    @Test func csvReaderBoundsEveryRecordWhateverTheChunks() {
        var random = FuzzRandom(seed: 0xC5F)
        let seeds = [
            "email,first_name,last_name,tags\nana@example.com,Ana,\"Lima, Jr\",\"a;b\"\n\"x\"\"y\",2,3\r\n",
            "a,b\n\"multi\nline\",\"q\"\"q\"\n,,,\n\"unterminated\n",
            String(repeating: "x,", count: 600) + "\n" + String(repeating: "y", count: 70_000) + "\n",
        ]
        for round in 0..<200 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            FuzzInput.mutateBytes(&bytes, using: &random)
            let whole = Self.read(bytes, chunk: bytes.count + 1)
            let pieces = Self.read(bytes, chunk: 1 + Int(random.next() % 97))
            #expect(whole == pieces, "round \(round): the records depend on where the chunks break")
            for record in whole where record.problem == nil {
                #expect(record.fields.count <= CSVReader.maxFieldsPerRecord, "round \(round)")
                #expect(record.fields.allSatisfy { $0.utf8.count <= CSVReader.maxFieldBytes }, "round \(round)")
            }
        }
    }

    static func read(_ bytes: [UInt8], chunk: Int) -> [CSVReader.Record] {
        var reader = CSVReader()
        var records: [CSVReader.Record] = []
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + chunk)
            records += reader.feed(bytes[index..<end])
            index = end
        }
        if case .success(let last?) = reader.finish() { records.append(last) }
        return records
    }

    @Test func cursorDecoderRefusesWhatItDidNotIssue() throws {
        var random = FuzzRandom(seed: 0xC0450)
        let issued = Cursor.encode([3, 1_700_000_000_000, 42])
        #expect(try Cursor.decode(issued, count: 3) == [3, 1_700_000_000_000, 42])
        for round in 0..<2_000 {
            var bytes = Array(issued.utf8)
            FuzzInput.mutateBytes(&bytes, using: &random)
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                let values = try Cursor.decode(text, count: 3)
                #expect(values == nil || values?.count == 3, "round \(round)")
            } catch let error as APIError {
                #expect(error.status == .badRequest, "round \(round)")
            }
        }
    }
}

/// The fuzzer's generator: seeded, so that a failure reproduces.
typealias FuzzRandom = SplitMix64

extension String {
    /// A hash that does not change between runs (Swift's `hashValue` is seeded per process).
    var hashValueStable: UInt64 {
        utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}
