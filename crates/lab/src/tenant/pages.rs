//! The HTML pages people (and tests) fill in: the sign-in form of the authorization endpoint and
//! the device-login form.

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;max-width:28em;margin:3em auto}}label{{display:block;margin-top:1em}}\
         .error{{color:#b00}}</style></head>\n<body><p><b>writeback-wizard lab tenant</b> (a simulator of Microsoft Entra ID)</p>\n<h1>{t}</h1>\n{body}\n</body></html>\n",
        t = escape(title)
    )
}

/// The sign-in form shown by `/authorize`. `hidden` are the OAuth parameters carried through.
pub fn sign_in(action: &str, hidden: &[(&str, &str)], error: Option<&str>, login_hint: &str) -> String {
    let fields: String = hidden
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">\n", escape(k), escape(v)))
        .collect();
    let err = error.map(|e| format!("<p class=\"error\" id=\"error\">{}</p>\n", escape(e))).unwrap_or_default();
    page(
        "Sign in",
        &format!(
            "{err}<form method=\"post\" action=\"{a}\">\n{fields}\
             <label for=\"username\">Email, phone, or Skype</label><input id=\"username\" name=\"username\" value=\"{hint}\" autofocus>\n\
             <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\">\n\
             <p><button type=\"submit\" name=\"action\" value=\"signin\">Sign in</button> \
             <button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button></p>\n</form>",
            a = escape(action),
            hint = escape(login_hint)
        ),
    )
}

/// The device-login form at `/devicelogin`.
pub fn device_login(error: Option<&str>, user_code: &str) -> String {
    let err = error.map(|e| format!("<p class=\"error\" id=\"error\">{}</p>\n", escape(e))).unwrap_or_default();
    page(
        "Enter code",
        &format!(
            "{err}<p>Enter the code displayed on your app or device, then sign in.</p>\n<form method=\"post\" action=\"devicelogin\">\n\
             <label for=\"user_code\">Code</label><input id=\"user_code\" name=\"user_code\" value=\"{c}\" autofocus>\n\
             <label for=\"username\">Email, phone, or Skype</label><input id=\"username\" name=\"username\">\n\
             <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\">\n\
             <p><button type=\"submit\" name=\"action\" value=\"approve\">Continue</button> \
             <button type=\"submit\" name=\"action\" value=\"decline\">Cancel</button></p>\n</form>",
            c = escape(user_code)
        ),
    )
}

/// A page with one message (done, or an error that must not redirect).
pub fn message(title: &str, text: &str) -> String {
    page(title, &format!("<p id=\"message\">{}</p>", escape(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_user_supplied_is_escaped() {
        let html = sign_in("/t/oauth2/v2.0/authorize", &[("state", "\"><script>x</script>")], Some("<b>"), "a&b");
        assert!(!html.contains("<script>x"));
        assert!(html.contains("&quot;&gt;&lt;script&gt;"));
        assert!(html.contains("&lt;b&gt;") && html.contains("a&amp;b"));
    }
}
