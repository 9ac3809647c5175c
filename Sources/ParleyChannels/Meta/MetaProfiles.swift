import Foundation
import ParleyCore

/// Messenger's and Instagram's user profile API: Messenger messages carry only a page-scoped id,
/// so the name comes from `GET /{PSID}?fields=first_name,last_name` (Instagram: `name,username`).
extension MessengerAdapter: ProfileFetching {
    public func fetchProfile(externalId: String, channel: ChannelConfig, http: ProviderHTTP) async -> ProfileLookup {
        guard let token = channel.credentials["pageAccessToken"], !token.isEmpty else { return .none }
        let fields = kind == .instagram ? "name,username" : "first_name,last_name"
        let url = "\(channel.baseURL(default: MetaWebhook.graphBase))/\(MetaWebhook.version(channel))/\(ProviderHTTP.component(externalId))"
            + "?fields=\(fields)&access_token=\(ProviderHTTP.component(token))"
        let response: ProviderHTTP.Response
        do { response = try await http.send(.GET, url) } catch {
            return .retry("\(error)")
        }
        guard response.status == 200, let json = response.json else {
            return ProfileLookups.outcome(status: response.status, detail: MetaWebhook.error(response).message)
        }
        let profile = kind == .instagram
            ? ContactProfile(displayName: json["name"] as? String ?? json["username"] as? String)
            : ContactProfile(firstName: json["first_name"] as? String, lastName: json["last_name"] as? String)
        return profile.isEmpty ? .none : .found(profile)
    }
}

/// The shared reading of a profile API's failure.
public enum ProfileLookups {
    /// 429 and 5xx are worth another try later; any other refusal (unknown user, no permission) is final.
    public static func outcome(status: Int, detail: String) -> ProfileLookup {
        status == 429 || status >= 500 ? .retry("HTTP \(status): \(detail)") : .none
    }
}
