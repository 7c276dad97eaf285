//! The national clouds: where to sign in and where Graph lives. Production code talks to these
//! endpoints; the lab differs only in the base URL.

use serde::{Deserialize, Serialize};

/// The national clouds (ARCHITECTURE.md: only the base URLs differ) and the lab simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    /// Microsoft Entra ID, worldwide.
    Public,
    /// US Government (GCC High).
    Usgov,
    /// US Government, Department of Defense.
    UsgovDod,
    /// China, operated by 21Vianet.
    China,
    /// The tenant simulator (`--lab-url`).
    Lab,
}

/// One cloud's endpoints. The OAuth URLs are templates in which `{tenant}` is replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The authority host, e.g. `https://login.microsoftonline.com`.
    pub authority: String,
    /// Graph's base, e.g. `https://graph.microsoft.com` (the token's resource, and the API host).
    pub graph: String,
    /// Where Graph's scopes are rooted (`https://graph.microsoft.com/User.Read`).
    pub graph_resource: String,
    /// Authorization endpoint template.
    pub authorize: String,
    /// Token endpoint template.
    pub token: String,
    /// Device authorization endpoint template — not in Entra's discovery document, so it is
    /// configured here rather than discovered.
    pub device: String,
}

impl Endpoints {
    /// Entra's endpoints under an authority: `{authority}/{tenant}/oauth2/v2.0/…`.
    pub fn entra(authority: &str, graph: &str, graph_resource: &str) -> Endpoints {
        Endpoints {
            authority: authority.into(),
            graph: graph.into(),
            graph_resource: graph_resource.into(),
            authorize: format!("{authority}/{{tenant}}/oauth2/v2.0/authorize"),
            token: format!("{authority}/{{tenant}}/oauth2/v2.0/token"),
            device: format!("{authority}/{{tenant}}/oauth2/v2.0/devicecode"),
        }
    }
    /// The authorization endpoint for `tenant`.
    pub fn authorize_url(&self, tenant: &str) -> String {
        self.authorize.replace("{tenant}", tenant)
    }
    /// The token endpoint for `tenant`.
    pub fn token_url(&self, tenant: &str) -> String {
        self.token.replace("{tenant}", tenant)
    }
    /// The device authorization endpoint for `tenant`.
    pub fn device_code_url(&self, tenant: &str) -> String {
        self.device.replace("{tenant}", tenant)
    }
    /// Graph v1.0's base URL.
    pub fn graph_v1(&self) -> String {
        format!("{}/v1.0", self.graph)
    }
    /// A Graph permission as a scope (`https://graph.microsoft.com/User.Read`).
    pub fn scope(&self, permission: &str) -> String {
        format!("{}/{permission}", self.graph_resource)
    }
}

/// The endpoints of a cloud. `lab_url` is the tenant simulator's base URL (used for `Cloud::Lab`).
pub fn endpoints(cloud: Cloud, lab_url: Option<&str>) -> Endpoints {
    let e = |authority: &str, graph: &str| Endpoints::entra(authority, graph, graph);
    match cloud {
        Cloud::Public => e("https://login.microsoftonline.com", "https://graph.microsoft.com"),
        Cloud::Usgov => e("https://login.microsoftonline.us", "https://graph.microsoft.us"),
        Cloud::UsgovDod => e("https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
        Cloud::China => e("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
        Cloud::Lab => {
            let base = lab_url.unwrap_or("http://127.0.0.1").trim_end_matches('/').to_string();
            // The simulator issues tokens for the public Graph resource, as Entra does.
            Endpoints::entra(&base, &base, "https://graph.microsoft.com")
        }
    }
}

/// The Microsoft Entra admin center of a cloud (the hosts Microsoft's Entra FAQ lists for
/// firewalls: entra.microsoft.com, entra.microsoft.us, entra.microsoftonline.cn; DoD shares the
/// US Government one). The lab's stand-in is a page of the tenant simulator.
pub fn admin_center(cloud: Cloud, lab_url: Option<&str>) -> String {
    match cloud {
        Cloud::Public => "https://entra.microsoft.com".into(),
        Cloud::Usgov | Cloud::UsgovDod => "https://entra.microsoft.us".into(),
        Cloud::China => "https://entra.microsoftonline.cn".into(),
        Cloud::Lab => format!("{}/lab/admin-center", lab_url.unwrap_or("http://127.0.0.1").trim_end_matches('/')),
    }
}

/// Where the admin center shows Password reset (whose "On-premises integration" holds the
/// writeback switches). Microsoft documents the way there in words ("Entra ID > Password reset >
/// On-premises integration"), not a link: this opens the Password reset blade, and the page says
/// which part of it to choose.
pub fn password_reset_page(cloud: Cloud, lab_url: Option<&str>) -> String {
    match cloud {
        Cloud::Lab => admin_center(cloud, lab_url),
        _ => format!("{}/#view/Microsoft_AAD_IAM/PasswordResetMenuBlade", admin_center(cloud, lab_url)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table_for_every_cloud() {
        let p = endpoints(Cloud::Public, None);
        assert_eq!(p.token_url("contoso.com"), "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token");
        assert_eq!(
            p.device_code_url("organizations"),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"
        );
        assert_eq!(p.scope("User.Read"), "https://graph.microsoft.com/User.Read");
        assert_eq!(endpoints(Cloud::Usgov, None).graph_v1(), "https://graph.microsoft.us/v1.0");
        assert_eq!(endpoints(Cloud::UsgovDod, None).graph, "https://dod-graph.microsoft.us");
        assert_eq!(endpoints(Cloud::China, None).authority, "https://login.chinacloudapi.cn");
        let lab = endpoints(Cloud::Lab, Some("http://127.0.0.1:4000/"));
        assert_eq!(lab.authorize_url("t"), "http://127.0.0.1:4000/t/oauth2/v2.0/authorize");
        assert_eq!(lab.graph_v1(), "http://127.0.0.1:4000/v1.0");
        assert_eq!(lab.scope(".default"), "https://graph.microsoft.com/.default");
        assert_eq!(
            password_reset_page(Cloud::Public, None),
            "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/PasswordResetMenuBlade"
        );
        assert_eq!(admin_center(Cloud::UsgovDod, None), "https://entra.microsoft.us");
        assert_eq!(admin_center(Cloud::China, None), "https://entra.microsoftonline.cn");
        assert_eq!(
            password_reset_page(Cloud::Lab, Some("http://127.0.0.1:4000/")),
            "http://127.0.0.1:4000/lab/admin-center"
        );
    }
}
