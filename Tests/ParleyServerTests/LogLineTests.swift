import Foundation
import Logging
@testable import ParleyServer
import Synchronization
import Testing

/// The plain log lines keep swift-log's layout, with the logger's fields formatted when a line
/// is written rather than when a field is set.
@Suite("Log lines")
struct LogLineTests {
    final class Lines: Sendable {
        let written = Mutex<[String]>([])
        func append(_ line: String) { written.withLock { $0.append(line) } }
    }

    @Test func linesCarryTimeLevelLabelSortedFieldsSourceAndMessage() throws {
        let lines = Lines()
        var logger = Logger(label: "parley-test") { label in LineLogHandler(label: label, format: .text, write: lines.append) }
        logger[metadataKey: "request_id"] = "abc"
        logger[metadataKey: "user"] = "7"
        logger[metadataKey: "user"] = "8"
        logger.info("request", metadata: ["status": "200", "method": "GET"], source: "ParleyServer")
        logger.debug("not written at info")
        logger.error("failed", error: Problem(), source: "ParleyServer")
        logger.logLevel = .critical
        logger.error("not written at critical")

        let written = lines.written.withLock { $0 }
        try #require(written.count == 2)
        let stamp = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4} /#
        #expect(written.allSatisfy { $0.prefixMatch(of: stamp) != nil && $0.hasSuffix("\n") })
        #expect(written[0].drop { $0 != " " } == " info parley-test: method=GET request_id=abc status=200 user=8 [ParleyServer] request\n")
        #expect(written[1].contains(" error parley-test: error.message=the disk is full error.type=ParleyServerTests.LogLineTests.Problem request_id=abc user=8 [ParleyServer] failed\n"))
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String { "the disk is full" }
    }
}
