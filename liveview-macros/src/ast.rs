//! The template syntax tree and its parser.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{braced, bracketed, parenthesized, token, Expr, Ident, Lit, Pat, Token, Type};

/// One node of markup.
pub(crate) enum Node {
    /// Static text (not yet escaped).
    Text(String),
    /// `(expr)`: one dynamic slot.
    Splice(Expr),
    /// An element with its attributes and children.
    Element(Element),
    /// `{ ... }`: a group of nodes, which scopes its `@let`s.
    Block(Vec<Node>),
    /// `@if ... @else if ... @else ...`
    If(IfChain),
    /// `@match expr { arms }`
    Match(MatchNode),
    /// `@for pat in expr { body }`
    For(ForNode),
    /// `@stream pat in expr { body }`: one render of a `Stream`.
    Stream(StreamNode),
    /// `@let pat = expr;`
    Let(LetNode),
}

/// An element.
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) classes: Vec<String>,
    pub(crate) id: Option<String>,
    pub(crate) attrs: Vec<Attr>,
    /// `None` when the element ends with `;` (no children, no closing tag).
    pub(crate) body: Option<Vec<Node>>,
}

/// An attribute.
pub(crate) enum Attr {
    /// `name="literal"`
    Static { name: String, value: String },
    /// `name=(expr)`
    Dynamic { name: String, expr: Expr },
    /// `name`
    Bool { name: String },
    /// `name[cond]`
    Toggle { name: String, cond: Expr },
    /// `..(expr)` or `..name`: a spread of `(name, value)` pairs.
    Spread { expr: Expr },
}

/// `@if` and its `@else` branches.
pub(crate) struct IfChain {
    pub(crate) cond: IfCond,
    pub(crate) then: Vec<Node>,
    pub(crate) otherwise: Option<Else>,
}

/// The condition of an `@if`.
pub(crate) enum IfCond {
    Expr(Expr),
    Let(Pat, Expr),
}

/// What follows `@else`.
pub(crate) enum Else {
    If(Box<IfChain>),
    Block(Vec<Node>),
}

/// `@match`.
pub(crate) struct MatchNode {
    pub(crate) expr: Expr,
    pub(crate) arms: Vec<Arm>,
}

/// One arm of a `@match`.
pub(crate) struct Arm {
    pub(crate) pat: Pat,
    pub(crate) guard: Option<Expr>,
    pub(crate) body: Vec<Node>,
}

/// `@for`.
pub(crate) struct ForNode {
    pub(crate) pat: Pat,
    pub(crate) expr: Expr,
    pub(crate) key: Option<Expr>,
    /// `memo = expr`: rows with the same key and memo are not rendered again.
    pub(crate) memo: Option<Expr>,
    pub(crate) body: Vec<Node>,
}

/// `@stream (dom_id, item) in &state.items { body }`.
pub(crate) struct StreamNode {
    pub(crate) pat: Pat,
    pub(crate) expr: Expr,
    pub(crate) body: Vec<Node>,
}

/// `@let`.
pub(crate) struct LetNode {
    pub(crate) pat: Pat,
    pub(crate) ty: Option<Type>,
    pub(crate) expr: Expr,
}

/// Elements that never have children nor a closing tag.
pub(crate) const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Parses markup until the end of the stream.
pub(crate) fn parse_markup(input: ParseStream<'_>) -> syn::Result<Vec<Node>> {
    let mut nodes = Vec::new();
    while !input.is_empty() {
        nodes.push(parse_node(input)?);
    }
    Ok(nodes)
}

fn parse_node(input: ParseStream<'_>) -> syn::Result<Node> {
    if input.peek(Lit) {
        let lit: Lit = input.parse()?;
        Ok(Node::Text(literal_text(&lit)?))
    } else if input.peek(token::Paren) {
        let content;
        let paren = parenthesized!(content in input);
        if content.is_empty() {
            return Err(syn::Error::new(
                paren.span.join(),
                "expected an expression inside `( )`",
            ));
        }
        let expr: Expr = content.parse()?;
        if !content.is_empty() {
            return Err(content.error("unexpected token after the spliced expression"));
        }
        Ok(Node::Splice(expr))
    } else if input.peek(token::Brace) {
        let content;
        braced!(content in input);
        Ok(Node::Block(parse_markup(&content)?))
    } else if input.peek(Token![@]) {
        parse_directive(input)
    } else if input.peek(Ident::peek_any) {
        parse_element(input).map(Node::Element)
    } else {
        Err(input.error(
            "expected an element, a string literal, a `(splice)`, a `{ block }` or an `@` directive",
        ))
    }
}

/// The text of a literal used as text or attribute value.
fn literal_text(lit: &Lit) -> syn::Result<String> {
    match lit {
        Lit::Str(s) => Ok(s.value()),
        Lit::Int(i) => Ok(i.base10_digits().to_owned()),
        Lit::Float(f) => Ok(f.base10_digits().to_owned()),
        Lit::Char(c) => Ok(c.value().to_string()),
        Lit::Bool(b) => Ok(b.value.to_string()),
        _ => Err(syn::Error::new(
            lit.span(),
            "expected a string, number, char or bool literal",
        )),
    }
}

fn parse_directive(input: ParseStream<'_>) -> syn::Result<Node> {
    input.parse::<Token![@]>()?;
    if !input.peek(Ident::peek_any) {
        return Err(input.error("expected `if`, `for`, `match` or `let` after `@`"));
    }
    let keyword = input.call(Ident::parse_any)?;
    match keyword.to_string().as_str() {
        "if" => parse_if(input).map(Node::If),
        "for" => parse_for(input).map(Node::For),
        "stream" => parse_stream(input).map(Node::Stream),
        "match" => parse_match(input).map(Node::Match),
        "let" => parse_let(input).map(Node::Let),
        "else" => Err(syn::Error::new(
            keyword.span(),
            "`@else` without a preceding `@if`",
        )),
        other => Err(syn::Error::new(
            keyword.span(),
            format!("unknown directive `@{other}`: expected `@if`, `@for`, `@stream`, `@match` or `@let`"),
        )),
    }
}

/// Parses `{ markup }`, with an error naming what it should follow.
fn parse_body(input: ParseStream<'_>, after: &str) -> syn::Result<Vec<Node>> {
    if !input.peek(token::Brace) {
        return Err(input.error(format!("expected `{{` after {after}")));
    }
    let content;
    braced!(content in input);
    parse_markup(&content)
}

/// Parses what follows `@if` (or `@else if`).
fn parse_if(input: ParseStream<'_>) -> syn::Result<IfChain> {
    let cond = if input.peek(Token![let]) {
        input.parse::<Token![let]>()?;
        let pat = Pat::parse_multi_with_leading_vert(input)?;
        input.parse::<Token![=]>()?;
        let expr = Expr::parse_without_eager_brace(input)?;
        IfCond::Let(pat, expr)
    } else {
        IfCond::Expr(Expr::parse_without_eager_brace(input)?)
    };
    let then = parse_body(input, "the `@if` condition")?;
    let otherwise = if input.peek(Token![@]) && input.peek2(Token![else]) {
        input.parse::<Token![@]>()?;
        input.parse::<Token![else]>()?;
        if input.peek(Token![if]) {
            input.parse::<Token![if]>()?;
            Some(Else::If(Box::new(parse_if(input)?)))
        } else {
            Some(Else::Block(parse_body(input, "`@else`")?))
        }
    } else {
        None
    };
    Ok(IfChain {
        cond,
        then,
        otherwise,
    })
}

fn parse_for(input: ParseStream<'_>) -> syn::Result<ForNode> {
    let pat = Pat::parse_multi_with_leading_vert(input)?;
    if !input.peek(Token![in]) {
        return Err(input.error("expected `in` after the `@for` pattern"));
    }
    input.parse::<Token![in]>()?;
    let expr = Expr::parse_without_eager_brace(input)?;
    let mut key = None;
    let mut memo = None;
    while input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        let keyword = input.call(Ident::parse_any).map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected `key = <expression>` or `memo = <expression>` after `,`",
            )
        })?;
        let slot = match keyword.to_string().as_str() {
            "key" => &mut key,
            "memo" => &mut memo,
            _ => {
                return Err(syn::Error::new(
                    keyword.span(),
                    "expected `key = <expression>` or `memo = <expression>` after `,`",
                ))
            }
        };
        if slot.is_some() {
            return Err(syn::Error::new(
                keyword.span(),
                format!("`{keyword}` is given twice"),
            ));
        }
        input.parse::<Token![=]>()?;
        *slot = Some(Expr::parse_without_eager_brace(input)?);
        if memo.is_some() && key.is_none() && !input.peek(Token![,]) {
            return Err(syn::Error::new(
                keyword.span(),
                "`memo = ...` needs a `key = ...`: rows are matched by key",
            ));
        }
    }
    let body = parse_body(
        input,
        "the `@for` iterator (or its `key = ...`/`memo = ...`)",
    )?;
    Ok(ForNode {
        pat,
        expr,
        key,
        memo,
        body,
    })
}

fn parse_stream(input: ParseStream<'_>) -> syn::Result<StreamNode> {
    let pat = Pat::parse_multi_with_leading_vert(input)?;
    if !input.peek(Token![in]) {
        return Err(input.error("expected `in` after the `@stream` pattern"));
    }
    input.parse::<Token![in]>()?;
    let expr = Expr::parse_without_eager_brace(input)?;
    let body = parse_body(input, "the `@stream` expression")?;
    Ok(StreamNode { pat, expr, body })
}

fn parse_match(input: ParseStream<'_>) -> syn::Result<MatchNode> {
    let expr = Expr::parse_without_eager_brace(input)?;
    if !input.peek(token::Brace) {
        return Err(input.error("expected `{` after the `@match` expression"));
    }
    let content;
    braced!(content in input);
    let mut arms = Vec::new();
    while !content.is_empty() {
        let pat = Pat::parse_multi_with_leading_vert(&content)?;
        let guard = if content.peek(Token![if]) {
            content.parse::<Token![if]>()?;
            Some(content.parse::<Expr>()?)
        } else {
            None
        };
        if !content.peek(Token![=>]) {
            return Err(content.error("expected `=>` after the `@match` arm pattern"));
        }
        content.parse::<Token![=>]>()?;
        let body = if content.peek(token::Brace) {
            parse_body(&content, "`=>`")?
        } else {
            vec![parse_node(&content)?]
        };
        if content.peek(Token![,]) {
            content.parse::<Token![,]>()?;
        }
        arms.push(Arm { pat, guard, body });
    }
    Ok(MatchNode { expr, arms })
}

fn parse_let(input: ParseStream<'_>) -> syn::Result<LetNode> {
    let pat = Pat::parse_single(input)?;
    let ty = if input.peek(Token![:]) {
        input.parse::<Token![:]>()?;
        Some(input.parse::<Type>()?)
    } else {
        None
    };
    if !input.peek(Token![=]) {
        return Err(input.error("expected `=` after the `@let` pattern"));
    }
    input.parse::<Token![=]>()?;
    let expr: Expr = input.parse()?;
    if !input.peek(Token![;]) {
        return Err(input.error("expected `;` after the `@let` expression"));
    }
    input.parse::<Token![;]>()?;
    Ok(LetNode { pat, ty, expr })
}

/// Parses a tag or attribute name: idents (keywords allowed) and integers joined by `-` or `:`.
fn parse_name(input: ParseStream<'_>) -> syn::Result<(String, Span)> {
    let first = input.call(Ident::parse_any)?;
    let span = first.span();
    let mut name = first.unraw().to_string();
    loop {
        if input.peek(Token![-]) {
            input.parse::<Token![-]>()?;
            name.push('-');
        } else if input.peek(Token![:]) && !input.peek(Token![::]) {
            input.parse::<Token![:]>()?;
            name.push(':');
        } else {
            return Ok((name, span));
        }
        if input.peek(Ident::peek_any) {
            name.push_str(&input.call(Ident::parse_any)?.unraw().to_string());
        } else if input.peek(syn::LitInt) {
            let int: syn::LitInt = input.parse()?;
            name.push_str(&int.to_string());
        } else {
            return Err(input.error(format!("expected a name after `{name}`")));
        }
    }
}

fn parse_element(input: ParseStream<'_>) -> syn::Result<Element> {
    let (name, span) = parse_name(input)?;
    let mut element = Element {
        name,
        classes: Vec::new(),
        id: None,
        attrs: Vec::new(),
        body: None,
    };
    loop {
        if input.peek(token::Brace) {
            let content;
            braced!(content in input);
            let body = parse_markup(&content)?;
            if !body.is_empty() && VOID_ELEMENTS.contains(&element.name.as_str()) {
                return Err(syn::Error::new(
                    span,
                    format!(
                        "void element `{}` cannot have children: write `{};`",
                        element.name, element.name
                    ),
                ));
            }
            element.body = Some(body);
            return Ok(element);
        } else if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
            return Ok(element);
        } else if input.peek(Token![..]) {
            input.parse::<Token![..]>()?;
            let expr = if input.peek(token::Paren) {
                let content;
                parenthesized!(content in input);
                let expr: Expr = content.parse()?;
                if !content.is_empty() {
                    return Err(content.error("unexpected token after the spread expression"));
                }
                expr
            } else if input.peek(Ident::peek_any) {
                Expr::Path(input.parse()?)
            } else {
                return Err(input.error("expected `(expression)` or a name after `..`"));
            };
            element.attrs.push(Attr::Spread { expr });
        } else if input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            element.classes.push(parse_name(input)?.0);
        } else if input.peek(Token![#]) {
            let hash = input.parse::<Token![#]>()?;
            if element.id.is_some() {
                return Err(syn::Error::new(
                    hash.span,
                    "an element has at most one `#id`",
                ));
            }
            element.id = Some(parse_name(input)?.0);
        } else if input.peek(Ident::peek_any) {
            element.attrs.push(parse_attr(input)?);
        } else {
            return Err(input.error(format!(
                "expected `{{`, `;`, attributes or `..spread` after element name `{}`",
                element.name
            )));
        }
    }
}

fn parse_attr(input: ParseStream<'_>) -> syn::Result<Attr> {
    let (name, _) = parse_name(input)?;
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        if input.peek(Lit) {
            let lit: Lit = input.parse()?;
            Ok(Attr::Static {
                name,
                value: literal_text(&lit)?,
            })
        } else if input.peek(token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            if content.is_empty() {
                return Err(syn::Error::new(
                    paren.span.join(),
                    "expected an expression inside `( )`",
                ));
            }
            let expr: Expr = content.parse()?;
            if !content.is_empty() {
                return Err(content.error("unexpected token after the attribute expression"));
            }
            Ok(Attr::Dynamic { name, expr })
        } else {
            Err(input.error(format!(
                "expected a literal or an `(expression)` after `{name}=`"
            )))
        }
    } else if input.peek(token::Bracket) {
        let content;
        bracketed!(content in input);
        let cond: Expr = content.parse()?;
        if !content.is_empty() {
            return Err(content.error("unexpected token after the attribute condition"));
        }
        Ok(Attr::Toggle { name, cond })
    } else {
        Ok(Attr::Bool { name })
    }
}
