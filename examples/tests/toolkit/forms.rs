//! `/volunteers` (a validated sign-up form: errors for used inputs only until submit, new
//! entries prepended in every tab) and `/books` (create, edit, delete; a number, a checkbox,
//! a multi-select and nested chapter rows added and removed).

use liveview_core::testing::{live, TestError};

use super::app;

#[tokio::test]
async fn volunteers_validate_as_you_type_and_reach_every_tab() -> Result<(), TestError> {
    let app = app();
    let mut tab = live(&app, "/volunteers").await?;
    let mut other = live(&app, "/volunteers").await?;
    // Typing an invalid phone shows that field's error and no other.
    tab.form("form.signup")
        .fill("volunteer[phone]", "555")
        .change()
        .await?;
    assert_eq!(tab.count(".field-error", ""), 1, "{}", tab.html());
    assert!(tab.has_element(".field-error", "10 digits"));
    // Fixing it clears it.
    tab.form("form.signup")
        .fill("volunteer[phone]", "555-123-4567")
        .change()
        .await?;
    assert_eq!(tab.count(".field-error", ""), 0, "{}", tab.html());
    // Submitting an empty form shows every required error.
    tab.form("form.signup")
        .fill("volunteer[phone]", "")
        .submit()
        .await?;
    for error in ["your name", "phone number", "pick a shift"] {
        assert!(
            tab.has_element(".field-error", error),
            "{error}: {}",
            tab.html()
        );
    }
    // A valid submit prepends the entry, here and in the other tab.
    tab.form("form.signup")
        .fill("volunteer[name]", "Ada Lovelace")
        .fill("volunteer[phone]", "555-123-4567")
        .fill("volunteer[shift]", "evening")
        .submit()
        .await?;
    assert!(tab.has_element("#flash-info", "Thanks for signing up, Ada Lovelace!"));
    // The entry comes back through pub/sub, to this tab as to every other.
    tab.wait_for("#volunteers li", "Ada Lovelace").await?;
    assert_eq!(tab.count(".field-error", ""), 0, "a fresh form");
    other.wait_for("#volunteers li", "Ada Lovelace").await?;
    Ok(())
}

#[tokio::test]
async fn books_are_created_edited_and_deleted_with_typed_fields() -> Result<(), TestError> {
    let app = app();
    let mut view = live(&app, "/books").await?;
    view.element("#new-book").click().await?;
    // Nested rows: add two chapters, remove the first.
    view.element("#add-chapter").click().await?;
    view.element("#add-chapter").click().await?;
    assert_eq!(view.count("#chapters .chapter", ""), 2, "{}", view.html());
    view.form("#book-form")
        .fill("book[title]", "Toolkit Tales")
        .fill("book[author]", "Ada")
        .fill("book[year]", "1843")
        .fill("book[available]", "true")
        .fill("book[genres][]", "science")
        .fill("book[genres][]", "poetry")
        .fill("book[chapters][0][title]", "Gone")
        .fill("book[chapters][1][title]", "Notes")
        .fill("book[chapters][1][pages]", "12")
        .change()
        .await?;
    view.element("#chapters .chapter:nth-of-type(1) .remove-chapter")
        .click()
        .await?;
    assert_eq!(view.count("#chapters .chapter", ""), 1, "{}", view.html());
    // A year that is not a number is an error on that field.
    view.form("#book-form")
        .fill("book[year]", "soon")
        .change()
        .await?;
    assert!(view.has_element(".field-error", ""), "{}", view.html());
    view.form("#book-form")
        .fill("book[year]", "1843")
        .submit()
        .await?;
    let row = "#books tbody tr";
    assert!(view.has_element(row, "Toolkit Tales"), "{}", view.html());
    assert_eq!(view.text(&format!("{row} .year"))?, "1843");
    assert_eq!(view.text(&format!("{row} .available"))?, "yes");
    assert_eq!(view.text(&format!("{row} .genres"))?, "science, poetry");
    assert_eq!(view.text(&format!("{row} .chapters"))?, "Notes (12 p.)");
    // Edit: the form comes back filled; uncheck and rename.
    view.element(&format!("{row} button.edit")).click().await?;
    assert!(view.has_element(
        "#book-form input[name='book[title]'][value='Toolkit Tales']",
        ""
    ));
    view.form("#book-form")
        .fill("book[title]", "Toolkit Tales, 2nd ed.")
        .fill("book[available]", "false")
        .submit()
        .await?;
    assert_eq!(
        view.text(&format!("{row} .title"))?,
        "Toolkit Tales, 2nd ed."
    );
    assert_eq!(view.text(&format!("{row} .available"))?, "no");
    // Delete.
    view.element(&format!("{row} button.delete"))
        .click()
        .await?;
    assert!(!view.has_element(row, "Toolkit Tales"));
    assert!(view.has_element("#flash-info", "Deleted"));
    Ok(())
}
