import ParleyCore
import Testing

@Suite("CSV reader")
struct CSVTests {
    func read(_ text: String, chunk: Int = 1) -> (records: [CSVReader.Record], failure: CSVReader.Failure?) {
        var reader = CSVReader()
        var records: [CSVReader.Record] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            records += reader.feed(bytes[index..<min(bytes.count, index + chunk)])
            index += chunk
        }
        switch reader.finish() {
        case .success(let last): return (records + (last.map { [$0] } ?? []), nil)
        case .failure(let failure): return (records, failure)
        }
    }

    @Test(arguments: [1, 3, 1000])
    func quotedFieldsAndLineEndings(chunk: Int) {
        let text = "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\nlast,,\"\""
        let (records, failure) = read(text, chunk: chunk)
        #expect(failure == nil)
        #expect(records.map(\.fields) == [["a", "b", "c"], ["x, y", "say \"hi\"", "two\nlines"], ["last", "", ""]])
        #expect(records.map(\.line) == [1, 2, 5])
    }

    @Test func byteOrderMarkIsSkipped() {
        let (records, _) = read("\u{FEFF}email\nann@example.com\n")
        #expect(records.map(\.fields) == [["email"], ["ann@example.com"]])
    }

    @Test func unterminatedQuoteIsReportedWithItsLine() {
        let (records, failure) = read("a\n\"open,b\nc\n")
        #expect(records.map(\.fields) == [["a"]])
        #expect(failure == .unterminatedQuote(line: 2))
    }

    @Test func escapeRoundTrips() {
        for value in ["plain", "a,b", "say \"hi\"", "two\nlines", " padded "] {
            let (records, _) = read(CSVReader.escape(value) + "\n")
            #expect(records.first?.fields == [value])
        }
    }
}

@Suite("Contact CSV format")
struct ContactCSVTests {
    let definitions = [CustomFieldDefinition(key: "plan", label: "Plan", type: .list, options: ["free", "pro"]),
                       CustomFieldDefinition(key: "vip", label: "VIP", type: .checkbox)]

    @Test func headerAcceptsCommonSpellingsAndRefusesUnknownColumns() throws {
        _ = try ContactCSV(header: ["First Name", "last_name", "EMAIL", "plan"], definitions: definitions)
        #expect(throws: ContactCSV.HeaderFailure.self) { try ContactCSV(header: ["firstName", "shoe_size"], definitions: definitions) }
        #expect(throws: ContactCSV.HeaderFailure.self) { try ContactCSV(header: ["email", "Email"], definitions: definitions) }
    }

    @Test func rowsAreTypedAndCleaned() throws {
        let format = try ContactCSV(header: ["firstName", "phone", "tags", "plan", "vip"], definitions: definitions)
        let good = try format.fields(from: ["Ana", "+1 (415) 555-1234", "a;b", "pro", "yes"]).get()
        #expect(good.firstName == "Ana")
        #expect(good.phone == .some("+14155551234"))
        #expect(good.tags == ["a", "b"])
        #expect(good.customFields?["plan"] == .some(.list("pro")))
        #expect(good.customFields?["vip"] == .some(.checkbox(true)))
        for row in [["Ana", "123", "", "", ""], ["Ana", "", "", "gold", ""], ["Ana", "", "", "", "maybe"], ["", "", "", "", ""], ["Ana"]] {
            guard case .failure = format.fields(from: row) else {
                Issue.record("row \(row) should be rejected")
                continue
            }
        }
    }
}
