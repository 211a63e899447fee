//! The sign-in email (`domain::sign_in`): sent by the portal itself when a partner asks for a link,
//! not by a domain event, so it never passes the outbox or the bus (the code is in no stored record).

use super::{EmailKind, EmailMessage, RenderError};
use askama::Template;

#[derive(Template)]
#[template(path = "email/sign_in_link.txt")]
struct Text<'a> {
    company_name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/sign_in_link.html")]
struct Html<'a> {
    company_name: &'a str,
    link: &'a str,
}

pub const SUBJECT: &str = "Your Power100 partner portal sign-in link";

/// The email that carries `link` to `to`, the contact of `company_name`.
pub fn sign_in_email(to: &str, company_name: &str, link: &str) -> Result<EmailMessage, RenderError> {
    let kind = EmailKind::SignInLink;
    let render = |result: Result<String, askama::Error>| result.map_err(|source| RenderError { kind, source });
    Ok(EmailMessage {
        kind,
        to: to.to_owned(),
        subject: SUBJECT.to_owned(),
        text: render(Text { company_name, link }.render())?,
        html: render(Html { company_name, link }.render())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_carries_the_link_and_escapes_the_company() {
        let link = "https://example.test/partner/billing#code=abc-DEF_123";
        let mail = sign_in_email("ops@example.test", "Smith & <Sons>", link).unwrap();
        assert!(mail.text.contains(link));
        assert!(
            mail.html
                .contains("href=\"https://example.test/partner/billing#code=abc-DEF_123\""),
            "{}",
            mail.html
        );
        assert!(mail.html.contains("Smith &#38; &#60;Sons&#62;"), "{}", mail.html);
        assert!(mail.text.contains("works once, for 15 minutes"));
        assert_eq!(mail.kind.as_str(), "sign_in_link");
    }
}
