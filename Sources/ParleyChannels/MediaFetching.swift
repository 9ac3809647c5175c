import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ParleyCore

/// What a download came to.
public enum MediaFetch: Sendable, Equatable {
    case fetched(bytes: [UInt8], contentType: String?, fileName: String?)
    /// The provider will never give this file (gone, too large): not asked again.
    case failed(String)
    /// The provider could not answer now: asked again later.
    case retry(String)
}

/// Providers whose webhooks name files to download.
public protocol MediaFetching: Sendable {
    func fetchMedia(_ source: MediaSource, channel: ChannelConfig, http: ProviderHTTP, limit: Int64) async -> MediaFetch
}

extension ProviderHTTP {
    /// Downloads a file of at most `limit` bytes, following redirects the client follows.
    public func download(_ url: String, headers: [(String, String)] = [], limit: Int64) async -> MediaFetch {
        // A webhook names the URL: it may not point into Parley's own network.
        do {
            try await targets.check(url: url)
        } catch .unresolvable(let host) {
            return .retry("\(host) could not be resolved")
        } catch {
            return .failed("the file's address is not allowed: \(error)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            let status = Int(response.status.code)
            if let length = response.headers.first(name: "content-length").flatMap(Int64.init), length > limit {
                return .failed("the file is \(length) bytes, over the limit of \(limit)")
            }
            guard (200..<300).contains(status) else {
                _ = try? await response.body.collect(upTo: 64 << 10)
                if status == 429 || status >= 500 { return .retry("HTTP \(status)") }
                return .failed("the provider answered HTTP \(status)")
            }
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: Int(limit))
            } catch is NIOTooManyBytesError {
                return .failed("the file is over the limit of \(limit) bytes")
            }
            let type = response.headers.first(name: "content-type")
            let disposition = response.headers.first(name: "content-disposition").flatMap(Self.fileName(disposition:))
            return .fetched(bytes: Array(buffer: body), contentType: type, fileName: disposition)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return .retry("timeout")
        } catch {
            return .retry("connection: \(error)")
        }
    }

    /// `filename="…"` from a Content-Disposition header.
    static func fileName(disposition: String) -> String? {
        for part in disposition.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "filename" else { continue }
            return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }
}

/// A multipart/form-data body (RFC 7578) for providers that take file uploads.
public struct MultipartForm: Sendable {
    public let boundary = "parley-" + UUID().uuidString.lowercased()
    private(set) var body: [UInt8] = []

    public init() {}

    public mutating func field(_ name: String, _ value: String) {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"\r\n\r\n\(value)\r\n".utf8)
    }

    public mutating func file(_ name: String, fileName: String, contentType: String, bytes: [UInt8]) {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"; filename=\"\(Self.quoted(fileName))\"\r\nContent-Type: \(contentType)\r\n\r\n".utf8)
        body += bytes
        body += Array("\r\n".utf8)
    }

    /// The finished body and its Content-Type header.
    public func encoded() -> (body: [UInt8], contentType: String) {
        (body + Array("--\(boundary)--\r\n".utf8), "multipart/form-data; boundary=\(boundary)")
    }

    /// Quotes and line breaks cannot break out of a header's quoted string.
    static func quoted(_ text: String) -> String {
        String(text.unicodeScalars.map { $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\\" ? "_" : Character($0) })
    }
}
