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
    /// Downloads a file of at most `limit` bytes. Redirects are followed here, at most five, each
    /// hop's address checked like the first; credentials go only to the host they were given for.
    public func download(_ url: String, headers: [(String, String)] = [], limit: Int64) async -> MediaFetch {
        var current = url
        var sent = headers
        for _ in 0...5 {
            // A webhook names the URL (and the URL may redirect): it may not point into Parley's own network.
            do {
                try await targets.check(url: current)
            } catch .unresolvable(let host) {
                return .retry("\(host) could not be resolved")
            } catch {
                return .failed("the file's address is not allowed: \(error)")
            }
            var request = HTTPClientRequest(url: current)
            request.method = .GET
            for (name, value) in sent { request.headers.add(name: name, value: value) }
            do {
                let response = try await Self.downloads.execute(request, timeout: .seconds(60))
                let status = Int(response.status.code)
                if [301, 302, 303, 307, 308].contains(status), let location = response.headers.first(name: "location"),
                   let next = URL(string: location, relativeTo: URL(string: current))?.absoluteURL {
                    _ = try? await response.body.collect(upTo: 64 << 10)
                    if next.host?.lowercased() != URL(string: current)?.host?.lowercased() { sent = [] }
                    current = next.absoluteString
                    continue
                }
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
        return .failed("the file's address redirected more than five times")
    }

    /// The client for downloads: it follows no redirect by itself, so that each hop is checked.
    static let downloads: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

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
