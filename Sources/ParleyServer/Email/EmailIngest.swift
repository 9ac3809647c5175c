import Crypto
import Foundation
import ParleyChannels
import ParleyCore
import ParleyStore

/// Takes in one received email for a channel, from IMAP or the SMTP listener: a bounce marks
/// the original message failed; anything else is stored as the sender's message, in the thread
/// its In-Reply-To / References point to, idempotent on its Message-ID. Automatic mail
/// (auto-replies, lists) is kept but opens no conversation.
struct EmailIngest {
    let services: Services

    enum Outcome: Equatable {
        case stored(messageId: Int64, new: Bool)
        case bounce(updated: Bool)
        case ignored(String)
    }

    /// What is kept of the mail beside its text (the message's `details`).
    static func facts(_ email: ParsedEmail, truncatedSize: Int?) -> [String: String] {
        var facts: [String: String] = ["subject": email.subject]
        if let id = email.messageId { facts["messageId"] = id }
        if !email.references.isEmpty || !email.inReplyTo.isEmpty {
            facts["references"] = (email.references + email.inReplyTo.filter { !email.references.contains($0) }).suffix(20).joined(separator: " ")
        }
        if !email.attachments.isEmpty {
            facts["attachments"] = email.attachments.map { "\($0.filename) (\($0.contentType), \(ByteCountFormatter.string(fromByteCount: Int64($0.size), countStyle: .file)))" }
                .joined(separator: "; ")
        }
        if email.isAutomatic { facts["automatic"] = "true" }
        if let size = truncatedSize { facts["truncated"] = "\(size)" }
        return facts
    }

    func ingest(_ raw: [UInt8], channel: ChannelRepository.ProviderConfig, truncatedSize: Int? = nil) async throws -> Outcome {
        let email = ParsedEmail(raw)
        let now = services.clock.now()
        if let bounce = email.bounce {
            guard let original = bounce.originalMessageId else { return .ignored("a delivery report about no message of ours") }
            let reason = [bounce.status, bounce.diagnostic].compactMap { $0 }.joined(separator: " ")
            let updated = try await services.statusUpdater.apply(channelId: channel.id, providerMessageId: original, status: .failed,
                                                                 reason: FailureReason.invalidRecipient.rawValue, code: bounce.status,
                                                                 text: reason.isEmpty ? "the message bounced" : String(reason.prefix(500)), at: now)
            return .bounce(updated: updated)
        }
        guard let sender = email.from else { return .ignored("no From address") }
        let settings = try? EmailAdapter.Settings(channel.credentials)
        if let own = settings?.from.address, sender.address == own { return .ignored("our own message") }
        // Mail without a Message-ID still gets one stable id, so a second delivery is a no-op.
        let providerId = email.messageId ?? "sha256:" + SHA256.hash(data: Data(raw)).hexEncoded
        // A reply to a message of another contact's thread joins that contact.
        if let contactId = try await services.email.threadContact(channelId: channel.id, messageIds: email.inReplyTo + email.references),
           try await services.email.contact(channelId: channel.id, address: sender.address) == nil {
            _ = try? await services.contacts.addIdentity(contactId: contactId, workspaceId: channel.workspaceId, channelId: channel.id,
                                                         externalId: sender.address, displayName: sender.name, at: now)
        }
        var text = email.text.isEmpty ? (email.attachments.isEmpty ? "[empty email]" : "[attachments]") : email.text
        if let size = truncatedSize { text = "[email of \(size / 1_048_576) MB, too large to show] " + text }
        let json = String(decoding: try JSONEncoder().encode(Self.facts(email, truncatedSize: truncatedSize)), as: UTF8.self)
        var message = InboundMessage(channelId: channel.id, externalId: sender.address, displayName: sender.name, providerMessageId: providerId,
                                     providerTimestamp: min(email.date ?? now, now), text: String(text.prefix(65_536)), content: json,
                                     profile: ContactFields(email: .some(sender.address)))
        message.opensConversation = !email.isAutomatic
        // The parts go to the blob store first (a repeat is a no-op), and their rows into the message's own transaction.
        message.received = try await keptAttachments(email, channel: channel)
        let result = try await services.inbound.record(message, workspaceId: channel.workspaceId, receivedAt: now)
        return .stored(messageId: result.messageId, new: result.stored)
    }

    /// An email's files came with it: each is checked and kept (or recorded as refused).
    func keptAttachments(_ email: ParsedEmail, channel: ChannelRepository.ProviderConfig) async throws -> [ReceivedFile] {
        var files: [ReceivedFile] = []
        for part in email.attachments where !part.bytes.isEmpty {
            do {
                let accepted = try await AttachmentIntake(services: services).accept(
                    part.bytes, declaredType: part.contentType, fileName: part.filename, limit: AttachmentLimits.inboundMaximum(.email),
                    workspaceId: channel.workspaceId)
                files.append(ReceivedFile(kind: accepted.kind, blobKey: accepted.blobKey, size: accepted.size, contentType: accepted.contentType,
                                          fileName: accepted.fileName, failure: nil))
            } catch let refusal as AttachmentIntake.Refusal {
                files.append(ReceivedFile(kind: AttachmentKind.of(contentType: part.contentType.lowercased()), blobKey: nil, size: Int64(part.bytes.count),
                                          contentType: nil, fileName: FileNames.sanitize(part.filename, contentType: "application/octet-stream"),
                                          failure: refusal.description))
            }
        }
        return files
    }
}
