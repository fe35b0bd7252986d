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
    }
}

diesel::allow_tables_to_appear_in_same_query!(accounts, contacts,);
