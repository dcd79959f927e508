//! API keys, experiment definitions and their outcomes, predictor models.

use tally_store::{
    ApiKeyRecord, ExperimentRecord, Filter, KeyScope, NewApiKey, NewPredictModel, OutcomeRecord,
};

use super::{project, write};
use crate::NewStore;
use crate::events::{at, outcome};

fn new_key(prefix: &str, scope: KeyScope, projects: &[&str], name: Option<&str>) -> NewApiKey {
    NewApiKey {
        name: name.map(str::to_owned),
        scope,
        projects: projects.iter().map(|p| (*p).to_owned()).collect(),
        prefix: prefix.to_owned(),
        hash: [prefix.len() as u8; 32],
        created_at: at(10),
    }
}

fn stored(id: i64, key: &NewApiKey) -> ApiKeyRecord {
    ApiKeyRecord {
        id,
        name: key.name.clone(),
        scope: key.scope,
        projects: key.projects.clone(),
        prefix: key.prefix.clone(),
        hash: key.hash,
        created_at: key.created_at,
        revoked_at: None,
    }
}

pub fn keys_are_created_found_by_prefix_and_revoked(new: NewStore<'_>) {
    let store = new();
    assert!(store.keys().unwrap().is_empty());
    assert!(!store.any_active_key().unwrap());
    let ingest = new_key("tk_abc", KeyScope::Ingest, &["p1", "p2"], Some("ci"));
    let admin = new_key("tk_admin", KeyScope::Admin, &[], None);
    let ingest_id = store.create_key(&ingest).unwrap();
    let admin_id = store.create_key(&admin).unwrap();
    assert!(ingest_id < admin_id);
    assert_eq!(
        store.keys().unwrap(),
        vec![stored(ingest_id, &ingest), stored(admin_id, &admin)]
    );
    assert_eq!(
        store.active_keys_with_prefix("tk_abc").unwrap(),
        vec![stored(ingest_id, &ingest)]
    );
    assert!(store.active_keys_with_prefix("tk_ab").unwrap().is_empty());
    assert!(store.any_active_key().unwrap());
    assert!(store.revoke_key(ingest_id, at(60)).unwrap());
    assert!(
        !store.revoke_key(ingest_id, at(120)).unwrap(),
        "revoked once"
    );
    assert!(!store.revoke_key(admin_id + 100, at(60)).unwrap());
    assert!(store.active_keys_with_prefix("tk_abc").unwrap().is_empty());
    let keys = store.keys().unwrap();
    assert_eq!(keys[0].revoked_at, Some(at(60)));
    assert_eq!(keys[1].revoked_at, None);
    assert!(store.any_active_key().unwrap());
    assert!(store.revoke_key(admin_id, at(61)).unwrap());
    assert!(!store.any_active_key().unwrap());
}

fn experiment(key: &str) -> ExperimentRecord {
    ExperimentRecord {
        key: key.to_owned(),
        seed: key.to_owned(),
        variants: vec![("control".to_owned(), 0.5), ("treatment".to_owned(), 0.5)],
        coverage: 0.8,
        hypothesis: Some("shorter checkout converts more".to_owned()),
        primary_metric: Some("converted".to_owned()),
        guardrail_metrics: vec!["latency".to_owned()],
        lower_is_better: vec!["latency".to_owned()],
        created_at: at(0),
        started_at: Some(at(5)),
        stopped_at: None,
        project: Some("p1".to_owned()),
    }
}

pub fn experiments_are_created_once_stopped_once_and_read_their_outcomes(new: NewStore<'_>) {
    let store = new();
    let checkout = experiment("checkout");
    assert!(store.create_experiment(&checkout).unwrap());
    let other_seed = ExperimentRecord {
        seed: "other".to_owned(),
        ..experiment("checkout")
    };
    assert!(
        !store.create_experiment(&other_seed).unwrap(),
        "a key is defined once in its project"
    );
    assert_eq!(
        store.experiment(Some("p1"), "checkout").unwrap(),
        Some(checkout.clone())
    );
    // The same key in another project is another experiment; a project's key says
    // nothing of the others'.
    let elsewhere = ExperimentRecord {
        project: Some("p2".to_owned()),
        ..experiment("checkout")
    };
    assert!(store.create_experiment(&elsewhere).unwrap());
    assert!(store.experiment(None, "checkout").unwrap().is_none());
    let global = ExperimentRecord {
        project: None,
        ..experiment("alpha")
    };
    assert!(store.create_experiment(&global).unwrap());
    assert!(
        !store.create_experiment(&global).unwrap(),
        "a global key is defined once among the global ones"
    );
    assert_eq!(
        store.experiments().unwrap(),
        vec![global, checkout.clone(), elsewhere.clone()],
        "by key, then project"
    );
    assert!(store.experiment(Some("p1"), "missing").unwrap().is_none());
    assert!(
        store
            .stop_experiment(Some("p1"), "checkout", at(100))
            .unwrap()
    );
    assert!(
        !store
            .stop_experiment(Some("p1"), "checkout", at(200))
            .unwrap()
    );
    assert!(
        !store
            .stop_experiment(Some("p1"), "missing", at(100))
            .unwrap()
    );
    assert_eq!(
        store
            .experiment(Some("p1"), "checkout")
            .unwrap()
            .unwrap()
            .stopped_at,
        Some(at(100))
    );
    assert_eq!(
        store.experiment(Some("p2"), "checkout").unwrap(),
        Some(elsewhere),
        "stopping one project's experiment leaves the other's running"
    );

    let metrics = [("latency", 120.5, false), ("converted", 1.0, true)];
    write(
        &*store,
        &[
            outcome("o1", "p1", at(10), "checkout", "u1", "control", &metrics),
            outcome(
                "o2",
                "p2",
                at(20),
                "checkout",
                "u2",
                "treatment",
                &[("converted", 0.0, true)],
            ),
            outcome("o3", "p1", at(30), "pricing", "u1", "control", &[]),
        ],
    );
    assert_eq!(
        store.experiment_keys_seen().unwrap(),
        vec!["checkout".to_owned(), "pricing".to_owned()]
    );
    let o1 = OutcomeRecord {
        ts: at(10),
        user_id: "u1".to_owned(),
        variant: "control".to_owned(),
        metrics: vec![
            ("converted".to_owned(), 1.0, true),
            ("latency".to_owned(), 120.5, false),
        ],
    };
    let o2 = OutcomeRecord {
        ts: at(20),
        user_id: "u2".to_owned(),
        variant: "treatment".to_owned(),
        metrics: vec![("converted".to_owned(), 0.0, true)],
    };
    assert_eq!(
        store.outcomes("checkout", &Filter::default()).unwrap(),
        vec![o1.clone(), o2.clone()]
    );
    assert_eq!(
        store.outcomes("checkout", &project("p1")).unwrap(),
        vec![o1]
    );
    let later = Filter {
        from: Some(at(15)),
        to: Some(at(25)),
        ..Filter::default()
    };
    assert_eq!(store.outcomes("checkout", &later).unwrap(), vec![o2]);
    assert!(
        store
            .outcomes("missing", &Filter::default())
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .outcomes("checkout", &project("none"))
            .unwrap()
            .is_empty()
    );
}

fn model(n_train: u64, bytes: &[u8]) -> NewPredictModel {
    NewPredictModel {
        created_at: at(n_train as i64),
        window_from: at(0),
        window_to: at(86_400),
        n_train,
        n_holdout: n_train / 4,
        params: format!("{{\"trees\":{n_train}}}"),
        metrics: "{\"auc\":0.71}".to_owned(),
        model: bytes.to_vec(),
    }
}

pub fn predictor_models_are_numbered_listed_and_loaded(new: NewStore<'_>) {
    let store = new();
    assert!(store.predict_models().unwrap().is_empty());
    assert!(store.predict_model(None).unwrap().is_none());
    let first = model(100, b"first model");
    let second = model(200, &[0, 159, 146, 150]);
    assert_eq!(store.save_predict_model(&first).unwrap(), 1);
    assert_eq!(store.save_predict_model(&second).unwrap(), 2);
    let listed = store.predict_models().unwrap();
    assert_eq!(
        listed.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
    for (info, new) in listed.iter().zip([&first, &second]) {
        assert_eq!(info.created_at, new.created_at);
        assert_eq!(
            (info.window_from, info.window_to),
            (new.window_from, new.window_to)
        );
        assert_eq!((info.n_train, info.n_holdout), (new.n_train, new.n_holdout));
        assert_eq!((&info.params, &info.metrics), (&new.params, &new.metrics));
    }
    let (latest, bytes) = store.predict_model(None).unwrap().unwrap();
    assert_eq!((latest, bytes), (listed[1].clone(), second.model.clone()));
    let (by_version, bytes) = store.predict_model(Some(1)).unwrap().unwrap();
    assert_eq!(
        (by_version, bytes),
        (listed[0].clone(), first.model.clone())
    );
    assert!(store.predict_model(Some(3)).unwrap().is_none());
}
