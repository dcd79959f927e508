//! Saved dashboards: created once per id, read, replaced keeping `created_at`, deleted.

use tally_store::StoredDashboard;

use crate::NewStore;
use crate::events::at;

fn dashboard(id: &str, project: Option<&str>, name: &str, created: i64) -> StoredDashboard {
    StoredDashboard {
        id: id.to_owned(),
        project: project.map(str::to_owned),
        name: name.to_owned(),
        definition: format!("{{\"widgets\":[{{\"view\":\"summary\",\"name\":\"{name}\"}}]}}"),
        created_at: at(created),
        updated_at: at(created),
    }
}

pub fn dashboards_are_created_once_replaced_and_deleted(new: NewStore<'_>) {
    let store = new();
    assert!(store.dashboards().unwrap().is_empty());
    assert_eq!(store.dashboard("b").unwrap(), None);
    let b = dashboard("b", Some("alpha"), "Costs", 1);
    let a = dashboard("a", None, "Everything", 2);
    assert!(store.create_dashboard(&b).unwrap());
    assert!(store.create_dashboard(&a).unwrap());
    assert!(
        !store
            .create_dashboard(&dashboard("b", None, "Other", 3))
            .unwrap(),
        "an id is taken once"
    );
    assert_eq!(
        store.dashboards().unwrap(),
        vec![a.clone(), b.clone()],
        "by id"
    );
    assert_eq!(store.dashboard("b").unwrap(), Some(b.clone()));

    let mut changed = dashboard("b", Some("beta"), "Tokens", 9);
    changed.updated_at = at(7);
    assert!(store.update_dashboard(&changed).unwrap());
    let read = store.dashboard("b").unwrap().unwrap();
    assert_eq!(
        read,
        StoredDashboard {
            created_at: at(1),
            ..changed.clone()
        },
        "a replaced dashboard keeps its created_at and takes the rest"
    );
    assert!(
        !store
            .update_dashboard(&dashboard("zz", None, "Missing", 1))
            .unwrap()
    );
    assert_eq!(
        store.dashboard("zz").unwrap(),
        None,
        "an update creates nothing"
    );

    assert!(store.delete_dashboard("a").unwrap());
    assert!(!store.delete_dashboard("a").unwrap());
    assert_eq!(
        store
            .dashboards()
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect::<Vec<_>>(),
        vec!["b"]
    );
}
