/// An incremental RFC 4180 reader: feed it bytes as they arrive, take complete records out.
/// Quoted fields may hold commas, doubled quotes and line breaks; CRLF and LF both end a record.
public struct CSVReader: Sendable {
    /// A record with the line it started on (1-based).
    public struct Record: Sendable, Equatable {
        public let line: Int
        public let fields: [String]
        /// Why the line cannot be used whole (a field, the field count or the line too long);
        /// its fields are then incomplete and must not be imported.
        public var problem: String? = nil

        public init(line: Int, fields: [String], problem: String? = nil) {
            self.line = line
            self.fields = fields
            self.problem = problem
        }
    }

    public enum Failure: Error, Equatable, Sendable {
        /// The input ended inside a quoted field that began on this line.
        case unterminatedQuote(line: Int)
    }

    private var field: [UInt8] = []
    private var fields: [String] = []
    private var inQuotes = false
    private var quoteInQuotes = false
    private var line = 1
    private var recordLine = 1
    private var fieldStarted = false
    private var pendingCR = false
    /// The first bytes, held until it is known whether they are a UTF-8 byte order mark.
    private var head: [UInt8] = []
    private var headChecked = false
    /// Bytes of the current record, and what was wrong with it.
    private var recordBytes = 0
    private var problem: String?

    /// The longest field accepted, to bound memory on hostile input.
    public static let maxFieldBytes = 64 * 1024
    /// The most fields a record may have.
    public static let maxFieldsPerRecord = 512
    /// The longest record (one line, or several for quoted line breaks) accepted.
    public static let maxRecordBytes = 1024 * 1024
    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    public init() {}

    /// Consumes `bytes` and returns the records completed by them.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Record] {
        var records: [Record] = []
        for byte in bytes {
            if !headChecked {
                head.append(byte)
                if head == Array(Self.byteOrderMark.prefix(head.count)) {
                    if head.count == Self.byteOrderMark.count { head = []; headChecked = true }
                    continue
                }
                headChecked = true
                let held = head
                head = []
                for heldByte in held { consume(heldByte, into: &records) }
                continue
            }
            consume(byte, into: &records)
        }
        return records
    }

    private mutating func consume(_ byte: UInt8, into records: inout [Record]) {
        if inQuotes {
            if quoteInQuotes {
                quoteInQuotes = false
                if byte == UInt8(ascii: "\"") { append(byte); return }
                inQuotes = false
                // The byte after a closing quote is read as outside the quotes.
            } else if byte == UInt8(ascii: "\"") {
                quoteInQuotes = true
                return
            } else {
                if byte == UInt8(ascii: "\n") { line += 1 }
                append(byte)
                return
            }
        }
        switch byte {
        case UInt8(ascii: "\""):
            if !fieldStarted {
                inQuotes = true
                fieldStarted = true
            } else {
                append(byte)
            }
        case UInt8(ascii: ","):
            pendingCR = false
            endField()
        case UInt8(ascii: "\r"):
            pendingCR = true
        case UInt8(ascii: "\n"):
            pendingCR = false
            endRecord(into: &records)
            line += 1
            recordLine = line
        default:
            if pendingCR { append(UInt8(ascii: "\r")); pendingCR = false }
            append(byte)
        }
    }

    private mutating func endRecord(into records: inout [Record]) {
        endField()
        // Blank lines are not records.
        if !(fields.count == 1 && fields[0].isEmpty) || problem != nil {
            records.append(Record(line: recordLine, fields: fields, problem: problem))
        }
        fields = []
        recordBytes = 0
        problem = nil
    }

    /// Ends the input: returns the last record if it had no line break, or a failure for an open quote.
    public mutating func finish() -> Result<Record?, Failure> {
        var records: [Record] = []
        if !headChecked {
            headChecked = true
            let held = head
            head = []
            for byte in held { consume(byte, into: &records) }
        }
        if inQuotes && !quoteInQuotes { return .failure(.unterminatedQuote(line: recordLine)) }
        inQuotes = false
        quoteInQuotes = false
        guard fieldStarted || !field.isEmpty || !fields.isEmpty else { return .success(records.first) }
        endRecord(into: &records)
        return .success(records.last)
    }

    private mutating func append(_ byte: UInt8) {
        fieldStarted = true
        recordBytes += 1
        if recordBytes > Self.maxRecordBytes {
            problem = problem ?? "line is longer than \(Self.maxRecordBytes) bytes"
        } else if field.count >= Self.maxFieldBytes {
            problem = problem ?? "a field is longer than \(Self.maxFieldBytes) bytes"
        } else {
            field.append(byte)
        }
    }

    private mutating func endField() {
        if fields.count < Self.maxFieldsPerRecord {
            fields.append(String(decoding: field, as: UTF8.self))
        } else {
            problem = problem ?? "line has more than \(Self.maxFieldsPerRecord) fields"
        }
        field.removeAll(keepingCapacity: true)
        fieldStarted = false
    }

    /// The first characters a spreadsheet reads as the start of a formula (OWASP's list).
    private static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    /// A cell a spreadsheet shows as text: a value starting like a formula gets a leading `'`
    /// (contact names come from providers' profiles and may be hostile).
    public static func spreadsheetSafe(_ value: String) -> String {
        guard let first = value.first, formulaStarts.contains(first) else { return value }
        return "'" + value
    }

    /// Undoes ``spreadsheetSafe(_:)`` on import, so that an exported file imports unchanged.
    public static func fromSpreadsheetSafe(_ cell: String) -> String {
        guard cell.hasPrefix("'"), let second = cell.dropFirst().first, formulaStarts.contains(second) else { return cell }
        return String(cell.dropFirst())
    }

    /// Quotes a field when it needs it.
    public static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || value.hasPrefix(" ") || value.hasSuffix(" ") else {
            return value
        }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
