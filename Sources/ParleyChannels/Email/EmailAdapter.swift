import Foundation
import ParleyCore

/// A support mailbox as a channel: replies leave over SMTP, threaded into the customer's mail
/// client; mail comes in by IMAP polling or through Parley's SMTP listener (not webhooks).
public struct EmailAdapter: ChannelAdapter {
    public init() {}

    public var kind: ChannelKind { .email }
    public var requiredCredentials: [String] { ["smtpHost", "fromAddress"] }

    /// A mailbox's settings, read from the channel's credentials.
    public struct Settings: Sendable {
        public var smtp: SMTPClient
        /// Nil when mail arrives through the SMTP listener only.
        public var imap: IMAPClient?
        public var from: EmailAddress

        public init(_ credentials: [String: String]) throws {
            func value(_ key: String) -> String? { credentials[key].flatMap { $0.isEmpty ? nil : $0 } }
            let pem = value("tlsCertificate")
            func endpoint(_ prefix: String, defaultSecurity: MailSecurity, ports: (tls: Int, plain: Int)) throws -> MailEndpoint? {
                guard let host = value(prefix + "Host") else { return nil }
                let raw = value(prefix + "Security") ?? defaultSecurity.rawValue
                guard let security = MailSecurity(rawValue: raw.lowercased()) else {
                    throw ChannelError.badPayload("\(prefix)Security must be tls, starttls or none")
                }
                let port = try value(prefix + "Port").map { text -> Int in
                    guard let port = Int(text), (1...65535).contains(port) else { throw ChannelError.badPayload("\(prefix)Port must be a port number") }
                    return port
                } ?? (security == .tls ? ports.tls : ports.plain)
                return MailEndpoint(host: host, port: port, security: security, trustedCertificates: pem)
            }
            guard let address = value("fromAddress"), let from = EmailAddress.parse(address) else {
                throw ChannelError.missingCredential("fromAddress")
            }
            self.from = EmailAddress(name: value("fromName"), address: from.address)
            guard let smtpEndpoint = try endpoint("smtp", defaultSecurity: .starttls, ports: (465, 587)) else { throw ChannelError.missingCredential("smtpHost") }
            let username = value("smtpUsername") ?? ""
            let password = value("smtpPassword") ?? ""
            smtp = SMTPClient(endpoint: smtpEndpoint, username: username, password: password, clientName: from.address.split(separator: "@").last.map(String.init) ?? "parley")
            imap = try endpoint("imap", defaultSecurity: .tls, ports: (993, 143)).map {
                IMAPClient(endpoint: $0, username: value("imapUsername") ?? username, password: value("imapPassword") ?? password,
                           folder: value("imapFolder") ?? "INBOX")
            }
        }
    }

    public func verify(_ request: WebhookRequest, channel: ChannelConfig) throws {
        throw ChannelError.unauthorized("email channels take mail by IMAP or SMTP, not webhooks")
    }

    public func parse(_ request: WebhookRequest, channel: ChannelConfig) throws -> [InboundEvent] { [] }

    /// Logs in to both servers; says which one refused and why.
    public func connect(channel: ChannelConfig, http: ProviderHTTP) async throws {
        let settings: Settings
        do {
            settings = try Settings(channel.credentials)
        } catch {
            throw ChannelError.connectFailed("\(error)")
        }
        // The servers are checked as every outbound target is (loopback and private addresses
        // only with --allow-private-targets), here and before each send.
        for endpoint in [settings.smtp.endpoint] + (settings.imap.map { [$0.endpoint] } ?? []) {
            do {
                try await http.targets.check(host: endpoint.host)
            } catch {
                throw ChannelError.connectFailed("\(endpoint.host): \(error.description)")
            }
        }
        do {
            try await settings.smtp.check()
        } catch {
            throw ChannelError.connectFailed("SMTP \(settings.smtp.endpoint.host):\(settings.smtp.endpoint.port): \(error)")
        }
        if let imap = settings.imap {
            do {
                try await imap.check()
            } catch {
                throw ChannelError.connectFailed("IMAP \(imap.endpoint.host):\(imap.endpoint.port): \(error)")
            }
        }
    }

    /// Our Message-ID for a message: the same on every attempt, so a receiver that saw an
    /// earlier attempt can tell.
    public static func messageId(for messageId: Int64, channelId: Int64, from: EmailAddress) -> String {
        "parley.\(channelId).\(messageId)@" + (from.address.split(separator: "@").last.map(String.init) ?? "parley.localhost")
    }

    public func send(_ delivery: OutboundDelivery, channel: ChannelConfig, http: ProviderHTTP) async -> ProviderResult {
        let settings: Settings
        do {
            settings = try Settings(channel.credentials)
        } catch {
            return .failed(reason: .misconfigured, code: "settings", text: "\(error)")
        }
        guard let recipient = EmailAddress.parse(delivery.externalId) else {
            return .failed(reason: .invalidRecipient, code: "address", text: "'\(delivery.externalId.prefix(100))' is not an email address")
        }
        let id = Self.messageId(for: delivery.messageId, channelId: channel.id, from: settings.from)
        let replyTo = delivery.thread["messageId"]
        let references = (delivery.thread["references"]?.split(separator: " ").map(String.init) ?? []) + (replyTo.map { [$0] } ?? [])
        let subject = delivery.instructions.subject
            ?? delivery.thread["subject"].map(OutgoingEmail.replySubject).flatMap { $0.isEmpty ? nil : $0 }
            ?? "Message from \(settings.from.name ?? settings.from.address)"
        var email = OutgoingEmail(from: settings.from, to: recipient, subject: subject, text: delivery.instructions.text, messageId: id,
                                  inReplyTo: replyTo, references: references)
        email.attachments = delivery.attachment.map { [$0] } ?? []
        do {
            try await http.targets.check(host: settings.smtp.endpoint.host)
        } catch .unresolvable(let host) {
            return .retry(after: nil, detail: "\(host) could not be resolved")
        } catch {
            return .failed(reason: .misconfigured, code: "target_refused", text: error.description)
        }
        do {
            try await settings.smtp.send(email.rendered(), from: settings.from.address, to: [recipient.address])
            return .sent(providerMessageId: id)
        } catch let error as MailError {
            switch error {
            case .transient(let why): return .retry(after: nil, detail: why)
            case .permanent(let why):
                let code = String(why.drop { !$0.isNumber }.prefix(3))
                return .failed(reason: why.contains("RCPT") ? .invalidRecipient : .providerError, code: code, text: why)
            case .authentication(let why): return .failed(reason: .authenticationFailed, code: "auth", text: why)
            case .configuration(let why): return .failed(reason: .misconfigured, code: "settings", text: why)
            }
        } catch {
            return .retry(after: nil, detail: "\(error)")
        }
    }
}
