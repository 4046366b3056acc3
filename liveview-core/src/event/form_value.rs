//! The deserializer of a form event's content: `serde_qs` over the URL-encoded body, except
//! for [`FormParams`](crate::form::FormParams), which takes the decoded value as it is.

use serde::de::{Deserializer, Visitor};
use serde_json::Value;

/// The newtype name through which `FormParams` asks for the event's decoded value.
pub(crate) const FORM_PARAMS: &str = "$liveview::FormParams";

/// `serde_qs` over `body`; `FormParams` gets `value` instead.
pub(crate) struct FormValue<'a> {
    pub(crate) body: &'a str,
    pub(crate) value: &'a Value,
}

impl<'a> FormValue<'a> {
    fn qs(&self) -> Result<serde_qs::Deserializer<'a>, serde_qs::Error> {
        serde_qs::Deserializer::with_config(crate::form::qs_config(), self.body.as_bytes())
    }
}

macro_rules! forward {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.qs()?.$method(visitor)
        }
    )*};
}

impl<'a> Deserializer<'a> for FormValue<'a> {
    type Error = serde_qs::Error;

    forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.qs()?.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if name == FORM_PARAMS {
            return visitor
                .visit_newtype_struct(self.value.clone())
                .map_err(<serde_qs::Error as serde::de::Error>::custom);
        }
        self.qs()?.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'a>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.qs()?.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.qs()?.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.qs()?.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.qs()?.deserialize_enum(name, variants, visitor)
    }
}
