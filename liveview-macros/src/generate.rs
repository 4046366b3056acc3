//! Code generation: statics, their templates and the expressions that compute the dynamics.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::ast::{
    Attr, Element, Else, ForNode, IfChain, IfCond, MatchNode, Node, StreamNode, VOID_ELEMENTS,
};

/// Generates the expression of type `path::Rendered` for the root template.
pub(crate) fn root(path: TokenStream, nodes: &[Node]) -> TokenStream {
    Gen { path }.rendered(nodes)
}

/// A statement of the code that evaluates a template's dynamics, in source order.
enum Item {
    /// A `@let` statement.
    Let(TokenStream),
    /// Dynamic slot number `.0`, computed by the expression `.1` (of type `Dynamic`).
    Dyn(usize, TokenStream),
    /// A `{ }` scope (an element body or a block containing `@let`s).
    Block(Vec<Item>),
}

impl Item {
    fn has_let(items: &[Item]) -> bool {
        items
            .iter()
            .any(|item| matches!(item, Item::Let(_) | Item::Block(_)))
    }

    /// The slot numbers defined by `items`, in order.
    fn slots(items: &[Item], out: &mut Vec<usize>) {
        for item in items {
            match item {
                Item::Let(_) => {}
                Item::Dyn(slot, _) => out.push(*slot),
                Item::Block(inner) => Item::slots(inner, out),
            }
        }
    }

    /// The dynamic expressions, in order (only when there is no `@let`).
    fn exprs(items: &[Item]) -> Vec<&TokenStream> {
        items
            .iter()
            .filter_map(|item| match item {
                Item::Dyn(_, expr) => Some(expr),
                _ => None,
            })
            .collect()
    }
}

/// One template being compiled: the statics so far and the code of its dynamics.
struct Template {
    statics: Vec<String>,
    current: String,
    slots: usize,
}

/// A compiled template.
struct Compiled {
    /// `static __LV_TEMPLATE: Template = ...;`
    declaration: TokenStream,
    /// The number of dynamic slots.
    arity: usize,
    items: Vec<Item>,
}

/// The code generator; `path` is the path of the `liveview_diff` crate.
struct Gen {
    path: TokenStream,
}

fn slot_ident(slot: usize) -> Ident {
    format_ident!("__lv_d{}", slot, span = Span::mixed_site())
}

fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

impl Gen {
    /// Compiles `nodes` as one template.
    fn compile(&self, nodes: &[Node]) -> Compiled {
        let mut template = Template {
            statics: Vec::new(),
            current: String::new(),
            slots: 0,
        };
        let mut items = Vec::new();
        self.nodes(&mut template, nodes, &mut items);
        let Template {
            mut statics,
            current,
            slots,
        } = template;
        statics.push(current);
        let path = &self.path;
        // The fingerprint is the runtime's own `const fn`, evaluated at compile time: one
        // definition of it in the workspace.
        let declaration = quote! {
            static __LV_TEMPLATE: #path::Template = {
                const STATICS: &[&str] = &[#(#statics),*];
                #path::Template::new(STATICS, #path::Template::fingerprint_of(STATICS))
            };
        };
        Compiled {
            declaration,
            arity: slots,
            items,
        }
    }

    /// An expression of type `Rendered` for `nodes`.
    fn rendered(&self, nodes: &[Node]) -> TokenStream {
        let path = &self.path;
        let Compiled {
            declaration,
            arity,
            items,
        } = self.compile(nodes);
        let dynamics = if arity == 0 && !Item::has_let(&items) {
            quote!(#path::__private::Vec::new())
        } else {
            self.collect(
                &items,
                |values| quote!(#path::__private::vec![#(#values),*]),
            )
        };
        quote! {{
            #declaration
            #path::Rendered::new(&__LV_TEMPLATE, #dynamics)
        }}
    }

    /// An expression of type `Dynamic` nesting the template of `nodes`.
    fn nested(&self, nodes: &[Node]) -> TokenStream {
        let path = &self.path;
        let rendered = self.rendered(nodes);
        quote!(#path::__private::IntoDynamic::into_dynamic(#rendered))
    }

    /// An expression evaluating the items in order and collecting the dynamics with `wrap`.
    fn collect(&self, items: &[Item], wrap: impl Fn(&[TokenStream]) -> TokenStream) -> TokenStream {
        if Item::has_let(items) {
            let statements = self.statements(items);
            let mut slots = Vec::new();
            Item::slots(items, &mut slots);
            let names: Vec<TokenStream> = slots
                .into_iter()
                .map(|slot| {
                    let ident = slot_ident(slot);
                    quote!(#ident)
                })
                .collect();
            let collected = wrap(&names);
            quote! {{
                #statements
                #collected
            }}
        } else {
            let exprs: Vec<TokenStream> = Item::exprs(items).into_iter().cloned().collect();
            wrap(&exprs)
        }
    }

    /// Statements evaluating `items` in order; slot `n` ends up in the local `__lv_d{n}`.
    fn statements(&self, items: &[Item]) -> TokenStream {
        let path = &self.path;
        let mut out = TokenStream::new();
        for item in items {
            match item {
                Item::Let(statement) => out.extend(statement.clone()),
                Item::Dyn(slot, expr) => {
                    let ident = slot_ident(*slot);
                    out.extend(quote!(let #ident: #path::Dynamic = #expr;));
                }
                Item::Block(inner) => {
                    let statements = self.statements(inner);
                    let mut slots = Vec::new();
                    Item::slots(inner, &mut slots);
                    if slots.is_empty() {
                        out.extend(quote!({ #statements }));
                    } else {
                        let idents: Vec<Ident> = slots.into_iter().map(slot_ident).collect();
                        out.extend(quote! {
                            let (#(#idents,)*) = { #statements (#(#idents,)*) };
                        });
                    }
                }
            }
        }
        out
    }

    fn nodes(&self, template: &mut Template, nodes: &[Node], items: &mut Vec<Item>) {
        for node in nodes {
            self.node(template, node, items);
        }
    }

    /// Compiles `nodes` in a scope of their own (their `@let`s end with the scope).
    fn scoped(&self, template: &mut Template, nodes: &[Node], items: &mut Vec<Item>) {
        let mut inner = Vec::new();
        self.nodes(template, nodes, &mut inner);
        if inner.iter().any(|item| matches!(item, Item::Let(_))) {
            items.push(Item::Block(inner));
        } else {
            items.extend(inner);
        }
    }

    fn node(&self, template: &mut Template, node: &Node, items: &mut Vec<Item>) {
        let path = &self.path;
        match node {
            Node::Text(text) => escape_into(text, &mut template.current),
            Node::Splice(expr) => template.slot(
                items,
                quote!(#path::__private::IntoDynamic::into_dynamic(#expr)),
            ),
            Node::Block(nodes) => self.scoped(template, nodes, items),
            Node::Element(element) => self.element(template, element, items),
            Node::If(chain) => {
                let expr = self.if_chain(chain);
                template.slot(items, expr);
            }
            Node::Match(node) => {
                let expr = self.match_node(node);
                template.slot(items, expr);
            }
            Node::For(node) => {
                let expr = self.for_node(node);
                template.slot(items, expr);
            }
            Node::Stream(node) => {
                let expr = self.stream_node(node);
                template.slot(items, expr);
            }
            Node::Let(node) => {
                let (pat, expr) = (&node.pat, &node.expr);
                let statement = match &node.ty {
                    Some(ty) => quote!(let #pat: #ty = #expr;),
                    None => quote!(let #pat = #expr;),
                };
                items.push(Item::Let(statement));
            }
        }
    }

    fn element(&self, template: &mut Template, element: &Element, items: &mut Vec<Item>) {
        let path = &self.path;
        let out = &mut template.current;
        out.push('<');
        out.push_str(&element.name);
        if let Some(id) = &element.id {
            out.push_str(" id=\"");
            escape_into(id, out);
            out.push('"');
        }
        if !element.classes.is_empty() {
            out.push_str(" class=\"");
            escape_into(&element.classes.join(" "), out);
            out.push('"');
        }
        for attr in &element.attrs {
            let out = &mut template.current;
            match attr {
                Attr::Static { name, value } => {
                    out.push(' ');
                    out.push_str(name);
                    out.push_str("=\"");
                    escape_into(value, out);
                    out.push('"');
                }
                Attr::Dynamic { name, expr } => {
                    // The whole attribute is the slot, so `None`/`false` can omit it.
                    let text = format!(" {name}");
                    template.slot(items, quote!(#path::__private::attr(#text, #expr)));
                }
                Attr::Spread { expr } => {
                    template.slot(items, quote!(#path::__private::spread(#expr)));
                }
                Attr::Bool { name } => {
                    out.push(' ');
                    out.push_str(name);
                }
                Attr::Toggle { name, cond } => {
                    let text = format!(" {name}");
                    let on = local("__lv_on");
                    template.slot(
                        items,
                        quote! {{
                            let #on: bool = #cond;
                            if #on { #path::Dynamic::raw(#text) } else { #path::Dynamic::EMPTY }
                        }},
                    );
                }
            }
        }
        template.current.push('>');
        if let Some(body) = &element.body {
            self.scoped(template, body, items);
            if !VOID_ELEMENTS.contains(&element.name.as_str()) {
                template.current.push_str("</");
                template.current.push_str(&element.name);
                template.current.push('>');
            }
        }
    }

    /// An `if` expression of type `Dynamic`.
    fn if_chain(&self, chain: &IfChain) -> TokenStream {
        let path = &self.path;
        let cond = match &chain.cond {
            IfCond::Expr(expr) => quote!(#expr),
            IfCond::Let(pat, expr) => quote!(let #pat = #expr),
        };
        let then = self.nested(&chain.then);
        let otherwise = match &chain.otherwise {
            None => quote!({ #path::Dynamic::EMPTY }),
            Some(Else::If(chain)) => self.if_chain(chain),
            Some(Else::Block(nodes)) => {
                let nested = self.nested(nodes);
                quote!({ #nested })
            }
        };
        quote!(if #cond { #then } else #otherwise)
    }

    /// A `match` expression of type `Dynamic`.
    fn match_node(&self, node: &MatchNode) -> TokenStream {
        let expr = &node.expr;
        let arms = node.arms.iter().map(|arm| {
            let pat = &arm.pat;
            let guard = arm.guard.as_ref().map(|guard| quote!(if #guard));
            let body = self.nested(&arm.body);
            quote!(#pat #guard => #body,)
        });
        quote!(match #expr { #(#arms)* })
    }

    /// The row template of a loop body: its `static` declaration, the row's array type, and the
    /// expression building one row.
    fn loop_body(&self, body: &[Node]) -> (TokenStream, TokenStream, TokenStream) {
        let path = &self.path;
        let Compiled {
            declaration,
            arity,
            items,
        } = self.compile(body);
        let values = self.collect(&items, |values| quote!([#(#values),*]));
        (declaration, quote!([#path::Dynamic; #arity]), values)
    }

    /// A block expression of type `Dynamic` holding one render of a `@stream`: the stream's
    /// pending operations and the items inserted since the last render.
    fn stream_node(&self, node: &StreamNode) -> TokenStream {
        let path = &self.path;
        let (declaration, row_type, values) = self.loop_body(&node.body);
        let (pat, expr) = (&node.pat, &node.expr);
        let ops = local("__lv_ops");
        let entries = local("__lv_entries");
        let list = local("__lv_list");
        let row = local("__lv_row");
        quote! {{
            #declaration
            let (#ops, #entries) = #path::Stream::take(#expr);
            let mut #list = #path::Comprehension::stream(&__LV_TEMPLATE, #ops, #entries.len());
            for #pat in #entries {
                let #row: #row_type = #values;
                #list.push_row(#row);
            }
            #path::__private::IntoDynamic::into_dynamic(#list)
        }}
    }

    fn for_node(&self, node: &ForNode) -> TokenStream {
        let path = &self.path;
        let (declaration, row_type, values) = self.loop_body(&node.body);
        let (pat, expr) = (&node.pat, &node.expr);
        let iter = local("__lv_iter");
        let list = local("__lv_list");
        let row = local("__lv_row");
        let key = local("__lv_key");
        if let (Some(key_expr), Some(memo_expr)) = (&node.key, &node.memo) {
            let reuse = local("__lv_reuse");
            let hashed = local("__lv_hashed");
            let stamp = local("__lv_stamp");
            let shared = local("__lv_shared");
            return quote! {{
                #declaration
                let #iter = ::core::iter::IntoIterator::into_iter(#expr);
                let mut #list = #path::Comprehension::memoized(
                    &__LV_TEMPLATE,
                    ::core::iter::Iterator::size_hint(&#iter).0,
                );
                let mut #reuse = #path::__private::Reuse::new(&__LV_TEMPLATE);
                for #pat in #iter {
                    let #key = #key_expr;
                    let #hashed: #path::RowKey = #path::hash_key(&#key);
                    let #stamp: u64 = #path::memo::stamp(&(#memo_expr));
                    if !#reuse.push(&mut #list, #hashed, #stamp) {
                        let #row: #row_type = #values;
                        let #shared: #path::__private::Arc<[#path::Dynamic]> =
                            #path::__private::Arc::new(#row);
                        #list.push_memo_row(#hashed, #stamp, #shared);
                    }
                }
                #path::__private::IntoDynamic::into_dynamic(#list)
            }};
        }
        let (constructor, push) = match &node.key {
            None => (quote!(new), quote!(#list.push_row(#row);)),
            Some(_) => (
                quote!(keyed),
                quote! {
                    #list.push_keyed_row(&#key, #row);
                },
            ),
        };
        let key_statement = node
            .key
            .as_ref()
            .map(|key_expr| quote!(let #key = #key_expr;));
        quote! {{
            #declaration
            let #iter = ::core::iter::IntoIterator::into_iter(#expr);
            let mut #list = #path::Comprehension::#constructor(
                &__LV_TEMPLATE,
                ::core::iter::Iterator::size_hint(&#iter).0,
            );
            for #pat in #iter {
                #key_statement
                let #row: #row_type = #values;
                #push
            }
            #path::__private::IntoDynamic::into_dynamic(#list)
        }}
    }
}

impl Template {
    /// Ends the current static and adds a dynamic slot computed by `expr`.
    fn slot(&mut self, items: &mut Vec<Item>, expr: TokenStream) {
        self.statics.push(std::mem::take(&mut self.current));
        items.push(Item::Dyn(self.slots, expr));
        self.slots += 1;
    }
}

/// Appends `text` to `out`, escaping `&`, `<`, `>`, `"` and `'` exactly like
/// `liveview_diff::escape_into`. A proc macro cannot depend on the crate that re-exports it, so
/// this is the one copy; `liveview-diff`'s `html_macro` tests check both agree.
fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(template: &str) -> Result<String, String> {
        let input: TokenStream = format!("lv; {template}").parse().unwrap();
        crate::expand(input)
            .map(|tokens| tokens.to_string())
            .map_err(|error| error.to_string())
    }

    fn error(template: &str) -> String {
        expand(template).expect_err("expected a parse error")
    }

    fn statics(nodes: &str) -> Vec<String> {
        let tokens: TokenStream = nodes.parse().unwrap();
        let nodes = syn::parse::Parser::parse2(crate::ast::parse_markup, tokens).unwrap();
        let mut template = Template {
            statics: Vec::new(),
            current: String::new(),
            slots: 0,
        };
        let mut items = Vec::new();
        Gen { path: quote!(lv) }.nodes(&mut template, &nodes, &mut items);
        template.statics.push(template.current);
        template.statics
    }

    #[test]
    fn statics_are_merged_and_escaped() {
        assert_eq!(statics(r#"div { "a" "b" }"#), ["<div>ab</div>"]);
        assert_eq!(
            statics(r#"p { "<&>\"'" 1 2.5 'c' }"#),
            ["<p>&lt;&amp;&gt;&quot;&#39;12.5c</p>"]
        );
        assert_eq!(
            statics(r#"a href="/?a=1&b=\"2\"" { }"#),
            [r#"<a href="/?a=1&amp;b=&quot;2&quot;"></a>"#]
        );
        assert_eq!(statics("h1 { \"Count: \" (n) }"), ["<h1>Count: ", "</h1>"]);
        assert_eq!(statics("(a)(b)"), ["", "", ""]);
        assert_eq!(statics(""), [""]);
    }

    #[test]
    fn elements_and_attributes() {
        assert_eq!(
            statics("br; hr {} img src=\"x.png\";"),
            ["<br><hr><img src=\"x.png\">"]
        );
        assert_eq!(statics("div;"), ["<div>"]);
        assert_eq!(
            statics(r#"input type="checkbox" checked disabled[d] value=(v) for="x";"#),
            // `value=(v)` is one slot holding the whole attribute (omitted for `None`).
            [r#"<input type="checkbox" checked"#, "", r#" for="x">"#]
        );
        assert_eq!(
            statics(
                r#"button phx-click="inc" phx-value-id="1" data-phx-link="x" xml:lang="en" {}"#
            ),
            [
                r#"<button phx-click="inc" phx-value-id="1" data-phx-link="x" xml:lang="en"></button>"#
            ]
        );
        assert_eq!(
            statics(r#"div.a.b-c #main { }"#),
            [r#"<div id="main" class="a b-c"></div>"#]
        );
        assert_eq!(
            statics("my-element loop r#async {}"),
            ["<my-element loop async></my-element>"]
        );
    }

    #[test]
    fn control_flow_is_one_slot_each() {
        assert_eq!(
            statics("ul { @for x in xs { li { (x) } } } @if a { \"a\" } @else { \"b\" } @match m { _ => \"m\" }"),
            ["<ul>", "</ul>", "", ""]
        );
        assert_eq!(statics("@let x = 1; p { (x) }"), ["<p>", "</p>"]);
    }

    #[test]
    fn expansion_uses_the_path_and_static_templates() {
        let code = expand("p { (x) }").unwrap();
        assert!(
            code.contains("static __LV_TEMPLATE : lv :: Template"),
            "{code}"
        );
        assert!(code.contains("lv :: Rendered :: new"), "{code}");
        assert!(code.contains("lv :: __private :: vec !"), "{code}");
        let code = expand("p { }").unwrap();
        assert!(code.contains("lv :: __private :: Vec :: new ()"), "{code}");
    }

    #[test]
    fn parse_errors() {
        assert!(error("div")
            .contains("expected `{`, `;`, attributes or `..spread` after element name `div`"));
        assert!(error("input ..;").contains("expected `(expression)` or a name after `..`"));
        assert!(error("div = ").contains("after element name"));
        assert!(error("br { \"x\" }").contains("void element `br` cannot have children"));
        assert!(error("()").contains("expected an expression inside `( )`"));
        assert!(error("(a b)").contains("unexpected token after the spliced expression"));
        assert!(error("@else { }").contains("`@else` without a preceding `@if`"));
        assert!(error("@while x { }").contains("unknown directive `@while`"));
        assert!(error("@if x").contains("expected `{` after the `@if` condition"));
        assert!(error("@for x xs { }").contains("expected `in`"));
        assert!(error("@for x in xs, id = 1 { }").contains("expected `key = <expression>`"));
        assert!(error("@for x in xs, memo = x { }").contains("needs a `key = ...`"));
        assert!(error("@for x in xs, key = x, key = x { }").contains("`key` is given twice"));
        assert!(expand("@for x in xs, memo = x.v, key = x.id { li { (x) } }").is_ok());
        let code = expand("@for x in xs, key = x.id, memo = x.v { li { (x) } }").unwrap();
        assert!(code.contains("push_memo_row"), "{code}");
        assert!(error("@let x = 1").contains("expected `;` after the `@let` expression"));
        assert!(error("@match x { _ \"a\" }").contains("expected `=>`"));
        assert!(
            error("a href= { }").contains("expected a literal or an `(expression)` after `href=`")
        );
        assert!(error("p { b\"x\" }").contains("expected a string, number, char or bool literal"));
        assert!(error("div.a #x #y {}").contains("at most one `#id`"));
        assert!(error(", ").contains("expected an element"));
        assert!(crate::expand("p {}".parse().unwrap())
            .unwrap_err()
            .to_string()
            .contains("expects `path::to::liveview_diff; template`"));
    }
}
