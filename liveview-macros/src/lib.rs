//! The procedural macro behind the `html!` template macro.
//!
//! **Do not use this crate directly.** Use [`liveview_diff::html!`] (or `liveview_core::html!`),
//! which documents the template syntax. Procedural macros cannot refer to the crate that exports
//! them through `$crate`, so `liveview_diff::html!` is a small `macro_rules!` wrapper that calls
//! [`html_impl!`] with the path of `liveview_diff` as its first argument:
//!
//! ```text
//! html_impl!(<path to liveview_diff>; <template>)
//! ```
//!
//! The expansion is a block expression of type `Rendered`. Every template (the root, each
//! `@if`/`@match` branch and each `@for` body) becomes a `static` `Template` whose statics are
//! HTML-escaped and merged at compile time and whose fingerprint is computed at compile time
//! by `Template::fingerprint_of` (a `const fn`).
//!
//! [`liveview_diff::html!`]: https://docs.rs/liveview-diff/latest/liveview_diff/macro.html.html

use proc_macro2::{TokenStream, TokenTree};

mod ast;
mod generate;

/// Expands `html_impl!(path; template)` into an expression of type `path::Rendered`.
///
/// Implementation detail of `liveview_diff::html!`: use that macro instead.
#[proc_macro]
pub fn html_impl(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Splits the input at the first top-level `;` into the runtime crate's path and the template,
/// parses the template and generates the code.
fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let mut path = TokenStream::new();
    let mut tokens = input.into_iter();
    let mut found_semicolon = false;
    for token in tokens.by_ref() {
        if let TokenTree::Punct(punct) = &token {
            if punct.as_char() == ';' {
                found_semicolon = true;
                break;
            }
        }
        path.extend([token]);
    }
    if !found_semicolon || path.is_empty() {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`html_impl!` expects `path::to::liveview_diff; template`: use `liveview_diff::html!` instead",
        ));
    }
    let template: TokenStream = tokens.collect();
    let nodes = syn::parse::Parser::parse2(ast::parse_markup, template)?;
    Ok(generate::root(path, &nodes))
}
