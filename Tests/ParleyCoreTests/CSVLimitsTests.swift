import Foundation
import ParleyCore
import Testing

/// Hostile CSV: formulas are neutralised on the way out and restored on the way in, and
/// oversized input is refused line by line rather than cut short.
@Suite("CSV limits and formulas")
struct CSVLimitsTests {
    func read(_ text: String) -> [CSVReader.Record] {
        var reader = CSVReader()
        var records = reader.feed(Array(text.utf8))
        if case .success(let last?) = reader.finish() { records.append(last) }
        return records
    }

    @Test(arguments: ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
    func formulasAreNeutralised(value: String) {
        let cell = CSVReader.spreadsheetSafe(value)
        #expect(cell.hasPrefix("'"))
        #expect(CSVReader.fromSpreadsheetSafe(cell) == value)
    }

    @Test func ordinaryValuesAreUntouched() {
        for value in ["Ana", "ana@example.com", "", "O'Brien", "'quoted'"] {
            #expect(CSVReader.spreadsheetSafe(value) == value)
            #expect(CSVReader.fromSpreadsheetSafe(value) == value)
        }
    }

    @Test func anOversizedFieldRejectsItsLineNotTruncatesIt() {
        let big = String(repeating: "a", count: CSVReader.maxFieldBytes + 10)
        let records = read("name\nAna\n\(big)\nBo\n")
        #expect(records.map(\.line) == [1, 2, 3, 4])
        #expect(records[2].problem != nil)
        #expect(records[2].fields.allSatisfy { $0.count <= CSVReader.maxFieldBytes })
        #expect(records[3].fields == ["Bo"] && records[3].problem == nil)
    }

    @Test func tooManyFieldsRejectsTheLine() {
        let wide = Array(repeating: "x", count: CSVReader.maxFieldsPerRecord + 1).joined(separator: ",")
        let records = read("a\n\(wide)\nok\n")
        #expect(records[1].problem != nil)
        #expect(records[1].fields.count <= CSVReader.maxFieldsPerRecord)
        #expect(records[2].fields == ["ok"])
    }

    @Test func anOverlongLineIsRejected() {
        let field = String(repeating: "b", count: CSVReader.maxFieldBytes - 1)
        let count = CSVReader.maxRecordBytes / CSVReader.maxFieldBytes + 2
        let long = Array(repeating: field, count: count).joined(separator: ",")
        let records = read("\(long)\nok\n")
        #expect(records[0].problem != nil)
        #expect(records[1].fields == ["ok"])
    }
}
