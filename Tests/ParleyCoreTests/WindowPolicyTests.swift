import Foundation
import ParleyCore
import Testing

@Suite("Messaging-window policy")
struct WindowPolicyTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000) // 2026-11-17 UTC
    static let second: TimeInterval = 1
    static let hour: TimeInterval = 3600
    static let day: TimeInterval = 86_400

    /// A row: channel, seconds since the contact's last message (nil: never wrote), sender, content → expected.
    struct Case: CustomTestStringConvertible, Sendable {
        let channel: ChannelKind
        let ago: TimeInterval?
        let sender: SenderKind
        let content: RequestedContent
        let expected: PolicyDecision
        var testDescription: String { "\(channel) \(ago.map { "\($0)s" } ?? "never") \(sender) \(content)" }

        init(_ channel: ChannelKind, _ ago: TimeInterval?, _ sender: SenderKind = .user, _ content: RequestedContent = .text, _ expected: PolicyDecision) {
            self.channel = channel
            self.ago = ago
            self.sender = sender
            self.content = content
            self.expected = expected
        }
    }

    static func allowed(_ plan: SendPlan) -> PolicyDecision { .allowed(plan) }
    static func refused(_ code: RefusalCode) -> PolicyDecision { .refused(Refusal(code: code, message: "")) }
    static let response = allowed(.meta(messagingType: .response, tag: nil))
    static let humanAgent = allowed(.meta(messagingType: .messageTag, tag: .humanAgent))

    static let cases: [Case] = [
        // No window: anything, any time.
        Case(.telegram, 400 * day, .user, .text, allowed(.standard)),
        Case(.line, nil, .workflow, .text, allowed(.standard)),
        Case(.webchat, 30 * day, .user, .text, allowed(.standard)),
        Case(.sms, nil, .user, .text, allowed(.standard)),
        Case(.email, 3 * 365 * day, .workflow, .text, allowed(.standard)),
        Case(.telegram, 0, .user, .template, refused(.unsupportedContent)),
        Case(.sms, 0, .user, .tagged(.accountUpdate), refused(.unsupportedContent)),
        // WhatsApp: 24 h, then templates only.
        Case(.whatsapp, 0, .user, .text, allowed(.standard)),
        Case(.whatsapp, day - second, .user, .text, allowed(.standard)),
        Case(.whatsapp, day, .user, .text, refused(.templateRequired)),
        Case(.whatsapp, nil, .user, .text, refused(.templateRequired)),
        Case(.whatsapp, day, .user, .template, allowed(.template)),
        Case(.whatsapp, 0, .workflow, .template, allowed(.template)),
        Case(.whatsapp, 0, .user, .tagged(.humanAgent), refused(.unsupportedContent)),
        // Messenger: 24 h standard, 7 days for human agents, then tags.
        Case(.messenger, day - second, .user, .text, response),
        Case(.messenger, day - second, .workflow, .text, response),
        Case(.messenger, day, .user, .text, humanAgent),
        Case(.messenger, day, .workflow, .text, refused(.tagRequired)),
        Case(.messenger, 7 * day - second, .user, .text, humanAgent),
        Case(.messenger, 7 * day, .user, .text, refused(.tagRequired)),
        Case(.messenger, nil, .user, .text, refused(.tagRequired)),
        Case(.messenger, 3 * day, .user, .tagged(.humanAgent), humanAgent),
        Case(.messenger, 3 * day, .workflow, .tagged(.humanAgent), refused(.tagRequired)),
        Case(.messenger, 7 * day, .user, .tagged(.humanAgent), refused(.tagRequired)),
        Case(.messenger, 8 * day, .workflow, .tagged(.postPurchaseUpdate), allowed(.meta(messagingType: .messageTag, tag: .postPurchaseUpdate))),
        Case(.messenger, nil, .user, .tagged(.confirmedEventUpdate), allowed(.meta(messagingType: .messageTag, tag: .confirmedEventUpdate))),
        Case(.messenger, 0, .user, .template, refused(.unsupportedContent)),
        // Instagram: 24 h standard, 7 days for human agents, then nothing.
        Case(.instagram, day - second, .user, .text, response),
        Case(.instagram, day, .user, .text, humanAgent),
        Case(.instagram, day, .workflow, .text, refused(.contactMustReply)),
        Case(.instagram, 7 * day - second, .user, .text, humanAgent),
        Case(.instagram, 7 * day, .user, .text, refused(.contactMustReply)),
        Case(.instagram, 8 * day, .user, .tagged(.humanAgent), refused(.contactMustReply)),
        Case(.instagram, 8 * day, .user, .tagged(.accountUpdate), refused(.unsupportedContent)),
        Case(.instagram, nil, .user, .text, refused(.contactMustReply)),
        // Viber: 24 h session, then chatbot-initiated within the quota (counts below).
        Case(.viber, day - second, .user, .text, allowed(.standard)),
        Case(.viber, day, .user, .text, allowed(.viberChatbotInitiated(billable: false))),
        Case(.viber, nil, .workflow, .text, allowed(.viberChatbotInitiated(billable: false))),
        // WeChat: 48 h, then recorded as undelivered.
        Case(.wechat, 48 * hour - second, .user, .text, allowed(.standard)),
        Case(.wechat, 48 * hour, .user, .text, allowed(.recordUndelivered(reason: .outsideWindow))),
        Case(.wechat, nil, .user, .text, allowed(.recordUndelivered(reason: .outsideWindow))),
    ]

    @Test(arguments: cases)
    func boundaries(_ row: Case) {
        let input = PolicyInput(channel: row.channel, lastInboundAt: row.ago.map { Self.now.addingTimeInterval(-$0) }, now: Self.now,
                                sender: row.sender, content: row.content)
        let decision = WindowPolicy.decide(input)
        #expect(Self.codeOnly(decision) == Self.codeOnly(row.expected))
        if case .refused(let refusal) = decision { #expect(!refusal.message.isEmpty) }
    }

    /// Refusals compare by code; their sentences are for people.
    static func codeOnly(_ decision: PolicyDecision) -> String {
        switch decision {
        case .allowed(let plan): return "allowed \(plan)"
        case .refused(let refusal): return "refused \(refusal.code.rawValue)"
        }
    }

    @Test(arguments: [(Int64(19), SendPlan.standard), (20, .recordUndelivered(reason: .messageLimit)), (0, .standard)])
    func weChatTwentiethAndTwentyFirst(sentBefore: Int64, expected: SendPlan) {
        let input = PolicyInput(channel: .wechat, lastInboundAt: Self.now.addingTimeInterval(-Self.hour), outboundSinceInbound: sentBefore, now: Self.now)
        #expect(WindowPolicy.decide(input) == .allowed(expected))
    }

    @Test(arguments: [
        (Int64(9_999), false, PolicyDecision.allowed(.viberChatbotInitiated(billable: false))),
        (10_000, false, refused(.viberQuotaExceeded)),
        (10_000, true, .allowed(.viberChatbotInitiated(billable: true))),
        (25_000, true, .allowed(.viberChatbotInitiated(billable: true))),
    ])
    func viberTenThousandthAndNext(usedBefore: Int64, commercialTerms: Bool, expected: PolicyDecision) {
        let input = PolicyInput(channel: .viber, lastInboundAt: Self.now.addingTimeInterval(-2 * Self.day), now: Self.now,
                                viberMonth: "2026-11", viberMonthCount: usedBefore, commercialTermsAccepted: commercialTerms)
        #expect(Self.codeOnly(WindowPolicy.decide(input)) == Self.codeOnly(expected))
    }

    @Test func viberQuotaStartsAgainEachUTCMonth() {
        // 2026-12-01T00:00:00Z: November's exhausted count no longer applies.
        let december = Date(timeIntervalSince1970: 1_796_083_200)
        #expect(WindowPolicy.utcMonth(december) == "2026-12")
        #expect(WindowPolicy.utcMonth(december.addingTimeInterval(-1)) == "2026-11")
        let input = PolicyInput(channel: .viber, lastInboundAt: nil, now: december, viberMonth: "2026-11", viberMonthCount: 10_000)
        #expect(WindowPolicy.decide(input) == .allowed(.viberChatbotInitiated(billable: false)))
        var lastSecond = input
        lastSecond.now = december.addingTimeInterval(-1)
        #expect(Self.codeOnly(WindowPolicy.decide(lastSecond)) == "refused viber_quota_exceeded")
    }

    @Test func aReplyReopensEveryWindow() {
        for channel in [ChannelKind.whatsapp, .messenger, .instagram, .viber, .wechat] {
            var input = PolicyInput(channel: channel, lastInboundAt: Self.now.addingTimeInterval(-30 * Self.day), outboundSinceInbound: 25, now: Self.now)
            #expect(WindowPolicy.decide(input) != .allowed(.standard) && WindowPolicy.decide(input) != Self.response, "\(channel) closed")
            // The contact writes: the window opens at that message and the count starts again.
            input.lastInboundAt = Self.now.addingTimeInterval(-60)
            input.outboundSinceInbound = 0
            let decision = WindowPolicy.decide(input)
            #expect(decision == .allowed(.standard) || decision == Self.response, "\(channel) reopened")
        }
    }

    @Test func composerExplainsWhatIsAllowed() {
        let whatsapp = ComposerState.evaluate(PolicyInput(channel: .whatsapp, lastInboundAt: Self.now.addingTimeInterval(-2 * Self.day), now: Self.now))
        #expect(whatsapp.window.status == .closed)
        #expect(whatsapp.allowed == [.template])
        #expect(whatsapp.reason.contains("template"))

        let messenger = ComposerState.evaluate(PolicyInput(channel: .messenger, lastInboundAt: Self.now.addingTimeInterval(-3 * Self.day), now: Self.now))
        #expect(messenger.allowed == [.freeText, .taggedMessage])
        #expect(messenger.tags == MessageTag.allCases)
        #expect(messenger.humanAgentUntil == Self.now.addingTimeInterval(4 * Self.day))
        #expect(messenger.reason.contains("HUMAN_AGENT"))

        let instagram = ComposerState.evaluate(PolicyInput(channel: .instagram, lastInboundAt: Self.now.addingTimeInterval(-8 * Self.day), now: Self.now))
        #expect(instagram.allowed == [.none])

        let viber = ComposerState.evaluate(PolicyInput(channel: .viber, lastInboundAt: nil, now: Self.now, viberMonth: "2026-11", viberMonthCount: 9_990))
        #expect(viber.allowed == [.chatbotInitiated])
        #expect(viber.viberQuotaLeft == 10)

        let wechat = ComposerState.evaluate(PolicyInput(channel: .wechat, lastInboundAt: Self.now.addingTimeInterval(-Self.hour), outboundSinceInbound: 19, now: Self.now))
        #expect(wechat.allowed == [.freeText])
        #expect(wechat.weChatMessagesLeft == 1)
        let wechatFull = ComposerState.evaluate(PolicyInput(channel: .wechat, lastInboundAt: Self.now.addingTimeInterval(-Self.hour), outboundSinceInbound: 20, now: Self.now))
        #expect(wechatFull.sendsUndelivered)
        #expect(wechatFull.allowed == [.none])

        let telegram = ComposerState.evaluate(PolicyInput(channel: .telegram, lastInboundAt: nil, now: Self.now))
        #expect(telegram.window.status == .none)
        #expect(telegram.allowed == [.freeText])
    }
}
