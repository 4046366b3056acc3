//! Conversions from Rust values into dynamic slot values ([`IntoDynamic`]).

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use crate::escape::{escape, Raw};
use crate::text::Text;
use crate::tree::{Comprehension, Dynamic, Rendered};

/// A value that can fill a dynamic slot of a template.
///
/// Text is HTML-escaped; [`Raw`] is not; a [`Rendered`] nests a template; `None` and `false`
/// render as nothing.
///
/// ```
/// use liveview_diff::{Dynamic, IntoDynamic};
/// assert_eq!(42.into_dynamic(), Dynamic::raw("42"));
/// assert_eq!("<x>".into_dynamic(), Dynamic::raw("&lt;x&gt;"));
/// assert_eq!(None::<&str>.into_dynamic(), Dynamic::EMPTY);
/// assert_eq!(false.into_dynamic(), Dynamic::EMPTY);
/// ```
pub trait IntoDynamic {
    /// Converts the value.
    fn into_dynamic(self) -> Dynamic;
}

impl IntoDynamic for Dynamic {
    fn into_dynamic(self) -> Dynamic {
        self
    }
}

impl IntoDynamic for Text {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Text(self)
    }
}

impl IntoDynamic for Rendered {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Nested(Box::new(self))
    }
}

impl IntoDynamic for Comprehension {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::List(Box::new(self))
    }
}

impl IntoDynamic for &str {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::text(self)
    }
}

impl IntoDynamic for &&str {
    fn into_dynamic(self) -> Dynamic {
        (*self).into_dynamic()
    }
}

impl IntoDynamic for String {
    fn into_dynamic(self) -> Dynamic {
        match escape(&self) {
            Cow::Borrowed(_) => Dynamic::Text(Text::from(self)),
            Cow::Owned(escaped) => Dynamic::Text(Text::from(escaped)),
        }
    }
}

impl IntoDynamic for &String {
    fn into_dynamic(self) -> Dynamic {
        self.as_str().into_dynamic()
    }
}

impl IntoDynamic for Cow<'_, str> {
    fn into_dynamic(self) -> Dynamic {
        self.as_ref().into_dynamic()
    }
}

impl IntoDynamic for &Cow<'_, str> {
    fn into_dynamic(self) -> Dynamic {
        self.as_ref().into_dynamic()
    }
}

impl IntoDynamic for Arc<str> {
    fn into_dynamic(self) -> Dynamic {
        self.as_ref().into_dynamic()
    }
}

impl IntoDynamic for &Arc<str> {
    fn into_dynamic(self) -> Dynamic {
        self.as_ref().into_dynamic()
    }
}

impl IntoDynamic for Rc<str> {
    fn into_dynamic(self) -> Dynamic {
        self.as_ref().into_dynamic()
    }
}

impl IntoDynamic for char {
    fn into_dynamic(self) -> Dynamic {
        let mut buf = [0u8; 4];
        self.encode_utf8(&mut buf).into_dynamic()
    }
}

impl IntoDynamic for &char {
    fn into_dynamic(self) -> Dynamic {
        (*self).into_dynamic()
    }
}

/// `true` renders as `true`, `false` as nothing.
impl IntoDynamic for bool {
    fn into_dynamic(self) -> Dynamic {
        if self {
            Dynamic::Text(Text::from_static("true"))
        } else {
            Dynamic::EMPTY
        }
    }
}

impl IntoDynamic for &bool {
    fn into_dynamic(self) -> Dynamic {
        (*self).into_dynamic()
    }
}

impl<T: IntoDynamic> IntoDynamic for Option<T> {
    fn into_dynamic(self) -> Dynamic {
        match self {
            Some(value) => value.into_dynamic(),
            None => Dynamic::EMPTY,
        }
    }
}

impl<'a, T> IntoDynamic for &'a Option<T>
where
    &'a T: IntoDynamic,
{
    fn into_dynamic(self) -> Dynamic {
        match self {
            Some(value) => value.into_dynamic(),
            None => Dynamic::EMPTY,
        }
    }
}

impl<T: AsRef<str>> IntoDynamic for Raw<T> {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Text(Text::copy_from(self.0.as_ref()))
    }
}

impl IntoDynamic for &Rendered {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Nested(Box::new(self.clone()))
    }
}

macro_rules! integers {
    ($($ty:ty),*) => {$(
        impl IntoDynamic for $ty {
            fn into_dynamic(self) -> Dynamic {
                let mut buf = itoa::Buffer::new();
                Dynamic::Text(Text::copy_from(buf.format(self)))
            }
        }
        impl IntoDynamic for &$ty {
            fn into_dynamic(self) -> Dynamic {
                (*self).into_dynamic()
            }
        }
    )*};
}

integers!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

macro_rules! floats {
    ($($ty:ty),*) => {$(
        impl IntoDynamic for $ty {
            fn into_dynamic(self) -> Dynamic {
                Dynamic::Text(Text::from(self.to_string()))
            }
        }
        impl IntoDynamic for &$ty {
            fn into_dynamic(self) -> Dynamic {
                (*self).into_dynamic()
            }
        }
    )*};
}

floats!(f32, f64);
