// @generated automatically by Diesel CLI.

diesel::table! {
    accounts (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        name -> Text,
        industry -> Nullable<Text>,
        region -> Nullable<Text>,
        size_band -> Nullable<Text>,
        website -> Nullable<Text>,
        tags -> Array<Nullable<Text>>,
        notes -> Nullable<Text>,
        owner -> Text,
        created_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
        version -> Int4,
        external_refs -> Array<Nullable<Text>>,
    }
}

diesel::table! {
    activities (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        account_id -> Uuid,
        opportunity_id -> Nullable<Uuid>,
        kind -> Text,
        occurred_at -> Timestamptz,
        duration_minutes -> Nullable<Int4>,
        subject -> Text,
        notes -> Nullable<Text>,
        participants -> Array<Nullable<Uuid>>,
        our_attendees -> Array<Nullable<Text>>,
        key_actions -> Array<Nullable<Text>>,
        tools -> Array<Nullable<Text>>,
        findings -> Jsonb,
        outcome -> Nullable<Text>,
        next_step_text -> Nullable<Text>,
        next_step_due_at -> Nullable<Timestamptz>,
        survey_record_id -> Nullable<Uuid>,
        created_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
        version -> Int4,
        external_refs -> Array<Nullable<Text>>,
    }
}

diesel::table! {
    contacts (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        account_id -> Uuid,
        name -> Text,
        title -> Nullable<Text>,
        department -> Text,
        methodology_role -> Nullable<Text>,
        reports_to -> Nullable<Uuid>,
        attitude -> Text,
        relationship -> Text,
        influence -> Nullable<Text>,
        key_person -> Bool,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        notes -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
        version -> Int4,
        external_refs -> Array<Nullable<Text>>,
    }
}

diesel::table! {
    event_clock (id) {
        id -> Int2,
        xid_offset -> Int8,
    }
}

diesel::table! {
    event_dispatch (id) {
        id -> Int2,
        txid -> Int8,
        seq -> Int8,
    }
}

diesel::table! {
    events (seq) {
        seq -> Int8,
        txid -> Int8,
        id -> Uuid,
        tenant_id -> Uuid,
        event_type -> Text,
        occurred_at -> Timestamptz,
        data -> Jsonb,
    }
}

diesel::table! {
    external_refs (tenant_id, resource_type, system, external_id) {
        tenant_id -> Uuid,
        resource_type -> Text,
        system -> Text,
        external_id -> Text,
        resource_id -> Uuid,
    }
}

diesel::table! {
    idempotency_keys (tenant_id, principal, key) {
        tenant_id -> Uuid,
        principal -> Text,
        key -> Text,
        request_hash -> Text,
        created_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        response_status -> Nullable<Int4>,
        content_type -> Nullable<Text>,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        response_body -> Nullable<Bytea>,
    }
}

diesel::table! {
    import_file_parts (tenant_id, job_id, part) {
        tenant_id -> Uuid,
        job_id -> Uuid,
        part -> Int4,
        bytes -> Bytea,
    }
}

diesel::table! {
    import_jobs (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        resource -> Text,
        source -> Text,
        dry_run -> Bool,
        status -> Text,
        charset -> Nullable<Text>,
        currency -> Text,
        total_rows -> Nullable<Int4>,
        processed_rows -> Int4,
        created -> Int4,
        updated -> Int4,
        unchanged -> Int4,
        failed_rows -> Int4,
        ignored_columns -> Array<Nullable<Text>>,
        unmapped_values -> Array<Nullable<Text>>,
        error -> Nullable<Text>,
        cancel_requested -> Bool,
        created_by -> Text,
        roles -> Array<Nullable<Text>>,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    import_rows (tenant_id, job_id, row_number) {
        tenant_id -> Uuid,
        job_id -> Uuid,
        row_number -> Int4,
        status -> Text,
        resource_id -> Nullable<Uuid>,
        external_id -> Nullable<Text>,
        errors -> Nullable<Text>,
    }
}

diesel::table! {
    opportunities (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        account_id -> Uuid,
        name -> Text,
        description -> Nullable<Text>,
        amount_minor -> Nullable<Int8>,
        currency -> Nullable<Text>,
        expected_start -> Nullable<Date>,
        deadline -> Nullable<Date>,
        status -> Text,
        current_stage -> Text,
        stage_entered_at -> Timestamptz,
        competitors -> Jsonb,
        owner -> Text,
        created_by -> Text,
        last_assessed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
        version -> Int4,
        external_refs -> Array<Nullable<Text>>,
    }
}

diesel::table! {
    playbook_versions (tenant_id, version) {
        tenant_id -> Uuid,
        version -> Int4,
        overlay -> Jsonb,
        stage_code -> Text,
        created_by -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    stage_assessments (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        opportunity_id -> Uuid,
        playbook_version -> Int4,
        from_stage -> Text,
        evidence_stage -> Text,
        lang -> Text,
        input -> Jsonb,
        judgement -> Jsonb,
        applied -> Bool,
        created_by -> Text,
        created_at -> Timestamptz,
        basis -> Text,
    }
}

diesel::table! {
    stage_history (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        opportunity_id -> Uuid,
        from_stage -> Text,
        to_stage -> Text,
        changed_at -> Timestamptz,
        changed_by -> Text,
        reason -> Nullable<Text>,
        assessment_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    survey_inventory_items (id) {
        id -> Int8,
        tenant_id -> Uuid,
        survey_id -> Uuid,
        account_id -> Uuid,
        position -> Int4,
        category -> Text,
        brand -> Text,
        model -> Nullable<Text>,
        quantity -> Int4,
        deployed_year -> Nullable<Int4>,
        end_of_support -> Nullable<Date>,
        notes -> Nullable<Text>,
        is_latest -> Bool,
    }
}

diesel::table! {
    survey_records (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        account_id -> Uuid,
        opportunity_id -> Nullable<Uuid>,
        surveyed_at -> Timestamptz,
        surveyor -> Text,
        respondents -> Array<Nullable<Uuid>>,
        sections -> Jsonb,
        completeness_percent -> Int4,
        created_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
        version -> Int4,
    }
}

diesel::table! {
    tenant_settings (tenant_id) {
        tenant_id -> Uuid,
        survey_completeness_threshold -> Int4,
        updated_by -> Text,
        updated_at -> Timestamptz,
        version -> Int4,
        stale_contact_days -> Int4,
        record_window_days -> Int4,
        import_mappings -> Jsonb,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        delivery_id -> Uuid,
        attempted_at -> Timestamptz,
        response_status -> Nullable<Int4>,
        duration_ms -> Int4,
        response_body -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        endpoint_id -> Uuid,
        event_id -> Uuid,
        event_type -> Text,
        body -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Nullable<Timestamptz>,
        claimed_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Array<Nullable<Text>>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamptz>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        created_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    activities,
    contacts,
    event_clock,
    event_dispatch,
    events,
    external_refs,
    idempotency_keys,
    import_file_parts,
    import_jobs,
    import_rows,
    opportunities,
    playbook_versions,
    stage_assessments,
    stage_history,
    survey_inventory_items,
    survey_records,
    tenant_settings,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
);
