import Foundation
import ParleyCore
import Testing

@Suite("Provider times and window states")
struct FidelityCoreTests {
    /// LINE, Messenger, Instagram and Viber stamp messages in whole milliseconds; stored back,
    /// each must be the same millisecond, not the one before (binary fractions fall a hair short).
    @Test func wholeMillisecondsRoundTripExactly() {
        var early: [Int64] = []
        for base: Int64 in [1_462_629_479_000, 1_700_000_000_000, 1_790_000_000_000, 4_102_444_800_000] {
            for offset: Int64 in 0..<2_000 {
                let milliseconds = base + offset
                if Date(epochMilliseconds: milliseconds).epochMilliseconds != milliseconds { early.append(milliseconds) }
            }
        }
        #expect(early.isEmpty, "\(early.count) timestamps moved, e.g. \(early.prefix(3))")
        #expect(Date(epochMilliseconds: 1_462_629_479_859).epochMilliseconds == 1_462_629_479_859)
    }

    @Test func timesBetweenMillisecondsStillRoundDown() {
        #expect(Date(timeIntervalSince1970: 1_700_000_000.1239).epochMilliseconds == 1_700_000_000_123)
        #expect(Date(timeIntervalSince1970: 1_700_000_000.9995).epochMilliseconds == 1_700_000_000_999)
    }

    @Test(arguments: [(19, WindowStatus.open, nil), (20, .closed, WindowClosure.messageLimit), (21, .closed, .messageLimit)] as [(Int64, WindowStatus, WindowClosure?)])
    func weChatsWindowEndsWithItsTwentiethMessage(sent: Int64, status: WindowStatus, closedBy: WindowClosure?) {
        let wrote = Date(timeIntervalSince1970: 1_790_000_000)
        let state = MessagingWindow.state(kind: .wechat, lastInboundAt: wrote, now: wrote.addingTimeInterval(3600), outboundSinceInbound: sent)
        #expect(state.status == status)
        #expect(state.closedBy == closedBy)
        #expect(state.closesAt == wrote.addingTimeInterval(48 * 3600))
    }

    @Test func aWindowClosedByTimeSaysSo() {
        let wrote = Date(timeIntervalSince1970: 1_790_000_000)
        let wechat = MessagingWindow.state(kind: .wechat, lastInboundAt: wrote, now: wrote.addingTimeInterval(48 * 3600), outboundSinceInbound: 3)
        #expect(wechat == WindowState(status: .closed, closesAt: wrote.addingTimeInterval(48 * 3600), closedBy: .time))
        // Only WeChat counts messages.
        let whatsapp = MessagingWindow.state(kind: .whatsapp, lastInboundAt: wrote, now: wrote.addingTimeInterval(60), outboundSinceInbound: 50)
        #expect(whatsapp.status == .open)
        #expect(whatsapp.closedBy == nil)
    }
}
