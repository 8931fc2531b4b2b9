//! `template.yaml` declares the same tables, keys and indexes as the code creates locally.

use serde_yaml::Value;
use users_api::store::dynamo::schema::{meta_table, users_table, IndexDef, TableDef, EXPIRES_AT};

fn template() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap();
    serde_yaml::from_str(&text).expect("template.yaml parses")
}

fn keys(schema: &Value) -> (String, Option<String>) {
    let mut hash = None;
    let mut range = None;
    for k in schema.as_sequence().expect("a KeySchema list") {
        let name = k["AttributeName"].as_str().unwrap().to_owned();
        match k["KeyType"].as_str().unwrap() {
            "HASH" => hash = Some(name),
            "RANGE" => range = Some(name),
            other => panic!("key type {other}"),
        }
    }
    (hash.expect("a HASH key"), range)
}

/// A table's shape: partition key, sort key, indexes (name, hash, range), key attributes.
type Shape = (
    String,
    Option<String>,
    Vec<(String, String, Option<String>, String)>,
    Vec<String>,
);

fn declared(resource: &Value) -> Shape {
    let props = &resource["Properties"];
    let (hash, range) = keys(&props["KeySchema"]);
    let mut indexes: Vec<_> = props["GlobalSecondaryIndexes"]
        .as_sequence()
        .map(|gsis| {
            gsis.iter()
                .map(|g| {
                    let (h, r) = keys(&g["KeySchema"]);
                    let projection = g["Projection"]["ProjectionType"].as_str().unwrap();
                    (
                        g["IndexName"].as_str().unwrap().to_owned(),
                        h,
                        r,
                        projection.to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    indexes.sort();
    let mut attributes: Vec<String> = props["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["AttributeType"], "S");
            a["AttributeName"].as_str().unwrap().to_owned()
        })
        .collect();
    attributes.sort();
    (hash, range, indexes, attributes)
}

fn expected(def: &TableDef) -> Shape {
    let mut indexes: Vec<_> = def
        .indexes
        .iter()
        .map(|i: &IndexDef| {
            let projection = if i.keys_only { "KEYS_ONLY" } else { "ALL" };
            (
                i.name.to_string(),
                i.hash.to_string(),
                i.range.map(str::to_owned),
                projection.to_owned(),
            )
        })
        .collect();
    indexes.sort();
    let mut attributes: Vec<String> = def.key_attributes().iter().map(|a| a.to_string()).collect();
    attributes.sort();
    (
        def.hash.to_owned(),
        def.range.map(str::to_owned),
        indexes,
        attributes,
    )
}

#[test]
fn the_template_declares_the_tables_the_code_uses() {
    let t = template();
    for def in [users_table(), meta_table()] {
        let resource = &t["Resources"][def.logical_id];
        assert_eq!(
            resource["Type"], "AWS::DynamoDB::Table",
            "{}",
            def.logical_id
        );
        assert_eq!(
            declared(resource),
            expected(&def),
            "{} drifted from src/store/dynamo/schema.rs",
            def.logical_id
        );
        let props = &resource["Properties"];
        assert_eq!(
            props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
            true
        );
        let sse = text(&props["SSESpecification"]);
        assert_eq!(
            sse.matches("SSEEnabled: true").count(),
            2,
            "encrypted with or without a key"
        );
    }
}

#[test]
fn the_function_is_an_arm64_cargo_lambda_build_with_secret_key_hashes() {
    let t = template();
    let f = &t["Resources"]["UsersFunction"];
    assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda");
    assert_eq!(f["Properties"]["Runtime"], "provided.al2023");
    assert_eq!(f["Properties"]["Architectures"][0], "arm64");
    assert_eq!(t["Parameters"]["ApiKeyHashes"]["NoEcho"], true);
    assert!(t["Outputs"]["ApiUrl"].is_mapping());
}

/// The text of `value` as YAML, tags (`!Ref`, `!If`, …) included.
fn text(value: &Value) -> String {
    serde_yaml::to_string(value).unwrap()
}

#[test]
fn calls_are_logged_and_no_log_is_kept_forever() {
    let t = template();
    let api = &t["Resources"]["UsersHttpApi"]["Properties"]["AccessLogSettings"];
    let format = api["Format"].as_str().expect("a JSON access log format");
    let fields: serde_json::Value = serde_json::from_str(format).expect("the format is JSON");
    for variable in [
        "$context.requestId",
        "$context.identity.sourceIp",
        "$context.routeKey",
        "$context.status",
        "$context.responseLatency",
        "$context.integrationErrorMessage",
    ] {
        assert!(
            format.contains(variable),
            "the access log records {variable}"
        );
    }
    assert!(fields.is_object());
    assert!(text(&api["DestinationArn"]).contains("AccessLogs"));
    for group in ["AccessLogs", "FunctionLogs"] {
        let g = &t["Resources"][group];
        assert_eq!(g["Type"], "AWS::Logs::LogGroup");
        assert!(text(&g["Properties"]["RetentionInDays"]).contains("LogRetentionDays"));
    }
    assert!(
        text(&t["Resources"]["FunctionLogs"]["Properties"]["LogGroupName"])
            .contains("/aws/lambda/${UsersFunction}")
    );
}

#[test]
fn operators_get_alarms_a_dashboard_a_ceiling_and_an_optional_key() {
    let t = template();
    let resources = &t["Resources"];
    for alarm in [
        "Api5xxRateAlarm",
        "P99LatencyAlarm",
        "FunctionErrorsAlarm",
        "FunctionThrottlesAlarm",
        "DynamoThrottlesAlarm",
        "DynamoSystemErrorsAlarm",
        "CapacityCostAlarm",
    ] {
        let a = &resources[alarm];
        assert_eq!(a["Type"], "AWS::CloudWatch::Alarm", "{alarm}");
        assert!(
            text(&a["Properties"]["AlarmActions"]).contains("AlarmTopic"),
            "{alarm} notifies the topic"
        );
        assert!(
            text(&a["Properties"]["AlarmDescription"]).contains("Operating it"),
            "{alarm} points at the runbook"
        );
    }
    assert_eq!(resources["AlarmTopic"]["Condition"], "HasAlarmEmail");
    let dashboard = text(&resources["Dashboard"]["Properties"]["DashboardBody"]);
    for metric in [
        "Latency",
        "Status409",
        "Status412",
        "Status429",
        "Status5xx",
        "StorageRequests",
        "ConsumedRCU",
        "ColdStart",
        "Throttles",
    ] {
        assert!(dashboard.contains(metric), "the dashboard shows {metric}");
    }
    let function = &resources["UsersFunction"]["Properties"];
    assert!(text(&function["ReservedConcurrentExecutions"]).contains("ReservedConcurrency"));
    assert!(t["Parameters"]["ReservedConcurrency"]["Default"]
        .as_u64()
        .is_some());
    for table in ["UsersTable", "MetaTable"] {
        let sse = text(&resources[table]["Properties"]["SSESpecification"]);
        assert!(
            sse.contains("HasKmsKey") && sse.contains("KmsKeyArn"),
            "{table} can use the key"
        );
    }
}

#[test]
fn every_checkov_skip_gives_its_reason() {
    let t = template();
    let mut skips = 0;
    for (name, resource) in t["Resources"].as_mapping().unwrap() {
        let Some(list) = resource["Metadata"]["checkov"]["skip"].as_sequence() else {
            continue;
        };
        for skip in list {
            skips += 1;
            let reason = skip["comment"].as_str().unwrap_or_default();
            assert!(
                reason.len() > 40,
                "{name:?} skips {:?} with a reason",
                skip["id"]
            );
        }
    }
    assert!(skips > 0);
}

#[test]
fn the_stream_drives_the_event_handler_which_alone_may_put_events() {
    let t = template();
    let r = &t["Resources"];
    let stream = &r["UsersTable"]["Properties"]["StreamSpecification"];
    assert_eq!(stream["StreamViewType"], "NEW_AND_OLD_IMAGES");
    assert!(
        users_table().stream && !meta_table().stream,
        "the code creates the same stream"
    );
    for table in ["UsersTable", "MetaTable"] {
        let ttl = &r[table]["Properties"]["TimeToLiveSpecification"];
        assert_eq!(ttl["AttributeName"].as_str(), Some(EXPIRES_AT), "{table}");
        assert_eq!(ttl["Enabled"], true, "{table}");
    }
    let env = &r["UsersFunction"]["Properties"]["Environment"]["Variables"];
    assert!(text(&env["DELETED_RETENTION_DAYS"]).contains("DeletedRetentionDays"));

    let f = &r["StreamFunction"];
    assert_eq!(
        f["Metadata"]["BuildProperties"]["Binary"], "users-api",
        "the same binary"
    );
    assert_eq!(
        f["Properties"]["Environment"]["Variables"]["HANDLER"],
        "stream"
    );
    let source = &f["Properties"]["Events"]["UsersStream"]["Properties"];
    assert_eq!(source["BisectBatchOnFunctionError"], true);
    assert_eq!(
        source["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
    assert!(source["MaximumRetryAttempts"]
        .as_u64()
        .is_some_and(|n| n > 0));
    assert!(source["MaximumRecordAgeInSeconds"].as_u64().is_some());
    assert!(text(&source["DestinationConfig"]).contains("StreamFailureQueue"));

    // events:PutEvents on the bus, for the stream function only.
    let policies = |name: &str| text(&r[name]["Properties"]["Policies"]);
    assert!(policies("StreamFunction").contains("events:PutEvents"));
    assert!(policies("StreamFunction").contains("EventBus"));
    assert!(!policies("UsersFunction").contains("events:"));
    assert!(t["Outputs"]["EventBusName"].is_mapping());

    for (name, kind) in [
        ("WebhookConnection", "AWS::Events::Connection"),
        ("WebhookDestination", "AWS::Events::ApiDestination"),
        ("WebhookRule", "AWS::Events::Rule"),
        ("WebhookDeadLetterQueue", "AWS::SQS::Queue"),
        ("WebhookFailuresAlarm", "AWS::CloudWatch::Alarm"),
    ] {
        assert_eq!(r[name]["Type"], kind, "{name}");
        assert_eq!(
            r[name]["Condition"], "HasWebhook",
            "{name} only with a WebhookUrl"
        );
    }
    let target = &r["WebhookRule"]["Properties"]["Targets"][0];
    assert!(target["RetryPolicy"]["MaximumRetryAttempts"]
        .as_u64()
        .is_some());
    assert!(text(&target["DeadLetterConfig"]).contains("WebhookDeadLetterQueue"));
    assert_eq!(t["Parameters"]["WebhookAuthValue"]["NoEcho"], true);
    for alarm in [
        "StreamIteratorAgeAlarm",
        "StreamFailuresAlarm",
        "WebhookFailuresAlarm",
    ] {
        assert!(
            text(&r[alarm]["Properties"]["AlarmActions"]).contains("AlarmTopic"),
            "{alarm}"
        );
    }
}
