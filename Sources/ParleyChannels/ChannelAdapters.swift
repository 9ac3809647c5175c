import ParleyCore

/// The adapters Parley has, by channel kind.
public enum ChannelAdapters {
    public static let all: [ChannelKind: any ChannelAdapter] = {
        let adapters: [any ChannelAdapter] = [
            TelegramAdapter(),
            WhatsAppAdapter(),
            MessengerAdapter(kind: .messenger),
            MessengerAdapter(kind: .instagram),
            ViberAdapter(),
            WeChatAdapter(),
            LineAdapter(),
            TwilioSMSAdapter(),
            WebchatAdapter(),
            EmailAdapter(),
        ]
        return Dictionary(uniqueKeysWithValues: adapters.map { ($0.kind, $0) })
    }()
}
