//! Puts every object of an answer in the order its query asked for its fields, as the GraphQL
//! spec requires ("serialized map ordering"). async-graphql 7 resolves an object's fields
//! concurrently and keeps them in the order they *finish*, so `{ tags articles }` could answer
//! `articles` first, and the answer cache would then keep that order.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::{Name, Value};

/// Reorders `data`, the answer to the operation `operation_name` selects in `document`.
pub(super) fn order_like_query(
    data: &mut Value,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) => operations.values().next(),
    };
    if let Some(operation) = operation {
        order(data, &[&operation.node.selection_set.node], document);
    }
}

/// Orders `value` by the selection sets that produced it (several when a field is selected
/// more than once and its selections merge).
fn order(value: &mut Value, sets: &[&SelectionSet], document: &ExecutableDocument) {
    match value {
        Value::List(items) => {
            for item in items {
                order(item, sets, document);
            }
        }
        Value::Object(fields) => {
            let mut keys: Vec<(&Name, Vec<&SelectionSet>)> = Vec::new();
            for set in sets {
                collect(set, document, &mut keys);
            }
            let mut unordered = std::mem::take(fields);
            let mut ordered = IndexMap::with_capacity(unordered.len());
            for (key, subsets) in keys {
                if let Some(mut child) = unordered.shift_remove(key) {
                    order(&mut child, &subsets, document);
                    ordered.insert(key.clone(), child);
                }
            }
            // Anything the walk did not name (nothing, for a validated query) keeps its place.
            ordered.extend(unordered);
            *fields = ordered;
        }
        _ => {}
    }
}

/// The response keys of `set` in order of first appearance, fragments expanded, each with the
/// sub-selections that apply to it.
fn collect<'d>(
    set: &'d SelectionSet,
    document: &'d ExecutableDocument,
    keys: &mut Vec<(&'d Name, Vec<&'d SelectionSet>)>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let key = &field.node.response_key().node;
                let subset = &field.node.selection_set.node;
                match keys.iter_mut().find(|(known, _)| *known == key) {
                    Some((_, subsets)) => subsets.push(subset),
                    None => keys.push((key, vec![subset])),
                }
            }
            Selection::InlineFragment(fragment) => {
                collect(&fragment.node.selection_set.node, document, keys)
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    collect(&fragment.node.selection_set.node, document, keys);
                }
            }
        }
    }
}
