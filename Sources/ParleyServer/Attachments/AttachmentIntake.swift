import Foundation
import ParleyCore
import ParleyStore

/// The one way a file enters Parley, whoever sent it (a provider's download, an agent's or a
/// visitor's upload, an email's part): its size and the workspace's quota checked, its type
/// sniffed from the bytes, its name sanitised, its bytes put in the blob store.
struct AttachmentIntake {
    let services: Services

    struct Accepted {
        let blobKey: String
        let size: Int64
        let contentType: String
        let kind: AttachmentKind
        let fileName: String
    }

    enum Refusal: Error, CustomStringConvertible {
        case tooLarge(limit: Int64)
        case quota(limit: Int64)
        case contentType(String)
        case empty

        var description: String {
            switch self {
            case .tooLarge(let limit): return "the file is larger than \(ByteCountFormatter.string(fromByteCount: limit, countStyle: .binary))"
            case .quota(let limit): return "the workspace's file storage (\(ByteCountFormatter.string(fromByteCount: limit, countStyle: .binary))) is full"
            case .contentType(let why): return why
            case .empty: return "the file is empty"
            }
        }
    }

    func accept(_ bytes: [UInt8], declaredType: String?, fileName: String?, sticker: Bool = false, limit: Int64, workspaceId: Int64) async throws -> Accepted {
        guard !bytes.isEmpty else { throw Refusal.empty }
        guard Int64(bytes.count) <= limit else { throw Refusal.tooLarge(limit: limit) }
        let type: String
        switch ContentSniffer.verdict(bytes, declared: declaredType) {
        case .refused(let why): throw Refusal.contentType(why)
        case .accepted(let sniffed): type = sniffed
        }
        let quota = services.configuration.workspaceStorageQuota
        if try await services.attachments.usage(workspaceId: workspaceId) + Int64(bytes.count) > quota {
            throw Refusal.quota(limit: quota)
        }
        let key = try await services.blobs.put(bytes)
        return Accepted(blobKey: key, size: Int64(bytes.count), contentType: type, kind: AttachmentKind.of(contentType: type, sticker: sticker),
                        fileName: FileNames.sanitize(fileName, contentType: type))
    }
}
