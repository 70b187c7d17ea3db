//! Checks on a parsed query, made before async-graphql validates and runs it.

use std::collections::HashMap;

use async_graphql::Name;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};

/// Whether any field of the document (fragments included) is `__schema` or `__type`.
pub(super) fn asks_for_introspection(document: &ExecutableDocument) -> bool {
    fn in_set(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type")
                    || in_set(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    document
        .operations
        .iter()
        .any(|(_, operation)| in_set(&operation.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|fragment| in_set(&fragment.node.selection_set.node))
}

/// The operation the request would run (`None` when the name selects none). A document with
/// one named operation runs it when no name is given, as async-graphql does.
fn selected_operation<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation.map(|op| &op.node)
}

/// The kind of the operation the request would run.
pub(super) fn operation_type(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    selected_operation(document, operation_name).map(|op| op.ty)
}

/// The names of the root fields the selected operation asks for, through fragments too.
pub(super) fn root_field_names<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Vec<&'d str> {
    fn collect<'d>(
        document: &'d ExecutableDocument,
        set: &'d SelectionSet,
        seen: &mut Vec<&'d str>,
        names: &mut Vec<&'d str>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => names.push(field.node.name.node.as_str()),
                Selection::InlineFragment(fragment) => {
                    collect(document, &fragment.node.selection_set.node, seen, names);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if !seen.contains(&name)
                        && let Some(fragment) =
                            document.fragments.get(&spread.node.fragment_name.node)
                    {
                        seen.push(name);
                        collect(document, &fragment.node.selection_set.node, seen, names);
                    }
                }
            }
        }
    }
    let mut names = Vec::new();
    if let Some(operation) = selected_operation(document, operation_name) {
        collect(
            document,
            &operation.selection_set.node,
            &mut Vec::new(),
            &mut names,
        );
    }
    names
}

/// Whether any operation of the document, named or not, is a mutation or a subscription.
pub(super) fn has_non_query(document: &ExecutableDocument) -> bool {
    document
        .operations
        .iter()
        .any(|(_, operation)| operation.node.ty != OperationType::Query)
}

/// How many fields the operations select once every fragment spread is expanded, or `None`
/// when fragments spread each other in a cycle (async-graphql refuses those itself).
///
/// A fragment that spreads the next one twice, thirty times over, is a query of a few hundred
/// bytes that selects 2^30 fields; async-graphql's depth and complexity checks walk that
/// expansion and would hold a core for minutes. Counted here with one memo per fragment, in
/// time linear in the query's length, so such a query is refused before they run.
pub(super) fn expanded_field_count(document: &ExecutableDocument) -> Option<u64> {
    struct Counter<'d> {
        document: &'d ExecutableDocument,
        memo: HashMap<&'d Name, u64>,
        expanding: Vec<&'d Name>,
    }

    impl<'d> Counter<'d> {
        fn set(&mut self, set: &'d SelectionSet) -> Option<u64> {
            let mut total: u64 = 0;
            for item in &set.items {
                let count = match &item.node {
                    Selection::Field(field) => {
                        1u64.saturating_add(self.set(&field.node.selection_set.node)?)
                    }
                    Selection::InlineFragment(fragment) => {
                        self.set(&fragment.node.selection_set.node)?
                    }
                    Selection::FragmentSpread(spread) => {
                        self.fragment(&spread.node.fragment_name.node)?
                    }
                };
                total = total.saturating_add(count);
            }
            Some(total)
        }

        fn fragment(&mut self, name: &'d Name) -> Option<u64> {
            if let Some(count) = self.memo.get(name) {
                return Some(*count);
            }
            if self.expanding.contains(&name) {
                return None;
            }
            // An unknown fragment selects nothing here; validation reports it.
            let Some(fragment) = self.document.fragments.get(name) else {
                return Some(0);
            };
            self.expanding.push(name);
            let count = self.set(&fragment.node.selection_set.node);
            self.expanding.pop();
            self.memo.insert(name, count?);
            count
        }
    }

    let mut counter = Counter {
        document,
        memo: HashMap::new(),
        expanding: Vec::new(),
    };
    let mut total: u64 = 0;
    for (_, operation) in document.operations.iter() {
        total = total.saturating_add(counter.set(&operation.node.selection_set.node)?);
    }
    for name in document.fragments.keys() {
        total = total.saturating_add(counter.fragment(name)?);
    }
    Some(total)
}
